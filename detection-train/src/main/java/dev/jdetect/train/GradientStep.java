package dev.jdetect.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.optim.ResumableOptimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One optimizer step: the model's training forward pass on every device's slice of the batch, the
 * weighted sum of the named losses, backward, the global gradient norm (clipping, non-finite
 * handling) and the optimizer update.
 */
final class GradientStep {

  private final DetectionModel model;
  private final List<Pair<String, Parameter>> trainable;
  private final ResumableOptimizer optimizer;
  private final DataParallel parallel;
  private final Map<String, Float> lossWeights;
  private final double clipNorm;
  private final int maxSkippedSteps;
  private final Consumer<String> messages;
  private int skippedInARow;
  private long skippedSteps;

  GradientStep(
      DetectionModel model,
      List<Pair<String, Parameter>> trainable,
      ResumableOptimizer optimizer,
      DataParallel parallel,
      TrainingConfig config,
      Consumer<String> messages) {
    this.model = model;
    this.trainable = trainable;
    this.optimizer = optimizer;
    this.parallel = parallel;
    this.lossWeights = config.lossWeights();
    this.clipNorm = config.clipNorm();
    this.maxSkippedSteps = config.maxSkippedSteps();
    this.messages = messages;
  }

  /**
   * Returns the parameters that need gradients, checking that every parameter is initialized on the
   * first device.
   */
  static List<Pair<String, Parameter>> trainable(DetectionModel model, Device device) {
    List<Pair<String, Parameter>> trainable = new ArrayList<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      Parameter param = p.getValue();
      if (!param.isInitialized()) {
        throw new IllegalArgumentException(
            "model parameter '"
                + p.getKey()
                + "' is not initialized: call Seeds.initialize(model, manager, seed, "
                + "DataType.FLOAT32, new Shape(1, 3, H, W)) on a manager of device "
                + device
                + " first");
      }
      if (!param.getArray().getDevice().equals(device)) {
        throw new IllegalArgumentException(
            "model parameter '"
                + p.getKey()
                + "' is on "
                + param.getArray().getDevice()
                + " but the trainer's first device is "
                + device);
      }
      if (param.requiresGradient()) {
        trainable.add(p);
      }
    }
    return trainable;
  }

  long skippedSteps() {
    return skippedSteps;
  }

  /**
   * Runs the step.
   *
   * @return the batch's losses, the total under {@code "loss"}
   * @throws NonFiniteLossException if a loss, or the gradient norm beyond the allowed skips, is not
   *     finite
   */
  Map<String, Double> run(NDManager step, TrainingBatch batch, double lr, int epoch, int index) {
    List<DataParallel.Slice> slices = parallel.split(batch);
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("loss", 0.0);
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray[] totals = new NDArray[slices.size()];
      for (int s = 0; s < slices.size(); s++) {
        DataParallel.Slice slice = slices.get(s);
        NDArray total = forward(step, slice, values, epoch, index);
        totals[s] = slices.size() == 1 ? total : Scalars.mul(total, (float) slice.share());
      }
      for (NDArray t : totals) {
        collector.backward(t);
      }
    }
    update(step, lr, epoch, index);
    return values;
  }

  private NDArray forward(
      NDManager step, DataParallel.Slice slice, Map<String, Double> values, int epoch, int index) {
    NDList losses =
        model.forward(
            parallel.parameterStore(),
            new NDList(slice.images()),
            new NDList(slice.boxes(), slice.classes()),
            null);
    String[] declared = model.lossNames();
    String[] names = new String[losses.size() + 1];
    NDList logged = new NDList(names.length);
    NDArray total = null;
    for (int i = 0; i < losses.size(); i++) {
      NDArray loss = losses.get(i);
      loss.attach(step);
      String name = loss.getName();
      if (name == null || name.isEmpty()) {
        name = i < declared.length ? declared[i] : "loss_" + i;
      }
      if (loss.size() != 1) {
        throw new IllegalArgumentException(
            "model returned loss '"
                + name
                + "' of shape "
                + loss.getShape()
                + "; losses must be scalars");
      }
      names[i] = name;
      logged.add(loss.toType(DataType.FLOAT32, false).reshape(1));
      float weight = lossWeights.getOrDefault(name, 1f);
      NDArray weighted = weight == 1f ? loss : Scalars.mul(loss, weight);
      total = total == null ? weighted : total.add(weighted);
    }
    if (total == null) {
      throw new IllegalArgumentException("model returned no losses");
    }
    names[losses.size()] = "loss";
    logged.add(total.toType(DataType.FLOAT32, false).reshape(1));
    // the step's one read of the device: every loss value at once, the total last
    float[] read = NDArrays.concat(logged).toFloatArray();
    for (int i = 0; i < read.length; i++) {
      if (!Float.isFinite(read[i])) {
        throw new NonFiniteLossException(epoch, index, names[i], read[i]);
      }
      values.merge(names[i], (double) read[i] * slice.share(), Double::sum);
    }
    return total;
  }

  private void update(NDManager step, double lr, int epoch, int index) {
    int n = trainable.size();
    DataParallel.Gradient[] grads = new DataParallel.Gradient[n];
    for (int i = 0; i < n; i++) {
      grads[i] = parallel.gradient(trainable.get(i).getValue(), step);
    }
    // the global norm is needed for clipping only; without, one cheap pass tells whether every
    // gradient is finite (which is when the norm would be)
    double norm = clipNorm > 0 ? GradientChecks.globalNorm(grads) : 0;
    boolean finite = clipNorm > 0 ? Double.isFinite(norm) : GradientChecks.allFinite(grads);
    if (!finite) {
      skipOrStop(grads, clipNorm > 0 ? norm : GradientChecks.globalNorm(grads), epoch, index);
      return;
    }
    skippedInARow = 0;
    double coef = clipNorm > 0 ? clipNorm / (norm + 1e-6) : 1;
    for (int i = 0; i < n; i++) {
      if (grads[i] != null) {
        NDArray g = coef < 1 ? Scalars.mul(grads[i].sum(), (float) coef) : grads[i].sum();
        optimizer.update(trainable.get(i).getKey(), trainable.get(i).getValue().getArray(), g, lr);
        for (NDArray accumulated : grads[i].accumulated()) {
          accumulated.subi(accumulated);
        }
      }
    }
    parallel.syncMirrors(model);
  }

  private void skipOrStop(DataParallel.Gradient[] grads, double norm, int epoch, int index) {
    String culprit = null;
    for (int i = 0; i < grads.length && culprit == null; i++) {
      if (grads[i] != null && !Float.isFinite(grads[i].sum().abs().max().getFloat())) {
        culprit = trainable.get(i).getKey();
      }
    }
    // leave no NaN behind in the accumulated gradients: write zeros into them. (Not with
    // copyTo/set(Buffer): on CPU that makes the tensor alias a Java buffer that dies with the
    // wrapper closed at the end of the step.)
    for (DataParallel.Gradient g : grads) {
      if (g != null) {
        for (NDArray accumulated : g.accumulated()) {
          accumulated.set(new NDIndex(":"), 0f);
        }
      }
    }
    String detail =
        culprit == null ? null : "first non-finite gradient: parameter '" + culprit + "'";
    if (skippedInARow >= maxSkippedSteps) {
      throw new NonFiniteLossException(epoch, index, "gradient_norm", (float) norm, detail);
    }
    skippedInARow++;
    skippedSteps++;
    messages.accept(
        "epoch "
            + epoch
            + ", batch "
            + index
            + ": gradient norm is "
            + norm
            + (detail == null ? "" : " (" + detail + ")")
            + "; step skipped ("
            + skippedInARow
            + " in a row, at most "
            + maxSkippedSteps
            + ")");
  }
}
