package dev.jdetect.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.jdetect.train.data.TrainingBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Data parallelism over the trainer's devices: a batch is split along its first axis into one slice
 * per device (sizes differ by at most one), each slice runs on a mirror of the parameters on its
 * device, the mirrors' gradients are summed on the first device, and after the update the first
 * device's values are copied back to the mirrors. With one device it only moves the batch.
 */
final class DataParallel {

  /**
   * One device's part of a batch.
   *
   * @param images {@code (b, 3, H, W)} on the device
   * @param boxes {@code (b, Nmax, 4)} on the device
   * @param classes {@code (b, Nmax)} on the device
   * @param share {@code b / B}, the slice's weight in the batch mean
   */
  record Slice(NDArray images, NDArray boxes, NDArray classes, double share) {}

  /**
   * A parameter's gradient summed over the devices.
   *
   * @param sum the sum, on the first device
   * @param accumulated every device's gradient array, to be zeroed after the update
   */
  record Gradient(NDArray sum, List<NDArray> accumulated) {}

  private final Device[] devices;
  private final ParameterStore parameterStore;

  DataParallel(NDManager manager, Device[] devices) {
    this.devices = devices.clone();
    this.parameterStore = new ParameterStore(manager, false);
    if (devices.length > 1) {
      parameterStore.setParameterServer(new MirrorOnlyServer(), devices);
    }
  }

  ParameterStore parameterStore() {
    return parameterStore;
  }

  List<Slice> split(TrainingBatch batch) {
    NDArray images = batch.getImages();
    NDArray boxes = batch.getTargets().get(0);
    NDArray classes = batch.getTargets().get(1);
    int b = batch.size();
    int parts = Math.min(devices.length, b);
    List<Slice> out = new ArrayList<>(parts);
    int from = 0;
    for (int d = 0; d < parts; d++) {
      int len = b / parts + (d < b % parts ? 1 : 0);
      String range = from + ":" + (from + len);
      out.add(
          new Slice(
              onDevice(images, range, parts, d),
              onDevice(boxes, range, parts, d),
              onDevice(classes, range, parts, d),
              (double) len / b));
      from += len;
    }
    return out;
  }

  private NDArray onDevice(NDArray array, String range, int parts, int device) {
    NDArray part = parts == 1 ? array : array.get(range);
    return part.toDevice(devices[device], false);
  }

  /**
   * Returns a parameter's gradient summed over the devices, attached to {@code step}.
   *
   * @return {@code null} if the parameter has no gradient
   */
  Gradient gradient(Parameter parameter, NDManager step) {
    NDArray weight = parameter.getArray();
    if (!weight.hasGradient()) {
      return null;
    }
    NDArray g = weight.getGradient();
    g.attach(step);
    List<NDArray> accumulated = new ArrayList<>(devices.length);
    accumulated.add(g);
    for (int d = 1; d < devices.length; d++) {
      NDArray mirror = parameterStore.getValue(parameter, devices[d], true);
      if (mirror != weight && mirror.hasGradient()) {
        NDArray gd = mirror.getGradient();
        gd.attach(step);
        accumulated.add(gd);
        g = g.add(gd.toDevice(weight.getDevice(), false));
      }
    }
    return new Gradient(g, accumulated);
  }

  /** Copies every parameter of the first device to its mirrors. */
  void syncMirrors(Block model) {
    if (devices.length == 1) {
      return;
    }
    for (Pair<String, Parameter> p : model.getParameters()) {
      NDArray weight = p.getValue().getArray();
      for (int d = 1; d < devices.length; d++) {
        NDArray mirror = parameterStore.getValue(p.getValue(), devices[d], true);
        if (mirror != weight) {
          weight.copyTo(mirror);
        }
      }
    }
  }

  /** Lets the parameter store create one mirror per device; updates are done by the trainer. */
  private static final class MirrorOnlyServer implements ParameterServer {
    @Override
    public void init(String parameterId, NDArray[] value) {}

    @Override
    public void update(String parameterId, NDArray[] grads, NDArray[] params) {}

    @Override
    public void close() {}
  }
}
