package dev.jdetect.models.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test model that "detects" fixed boxes relative to its input: label 1 at {@code (W/4, H/2, 3W/4,
 * H)} with score {@code 0.9 * scale} and label 2 at {@code (0, 0, W/10, H/10)} with score 0.05, in
 * the pixels of the array it is given. {@code scale} is its only parameter (initialized to {@code
 * init}).
 */
final class FixedBoxModel extends AbstractBlock implements DetectionModel {

  final AtomicInteger forwardCalls = new AtomicInteger();

  /** The pixels of the last batch the model was given. */
  volatile float[] lastInput;

  /** The shapes of the arrays of the last batch. */
  volatile List<Shape> lastShapes;

  /** Every array the parameter store handed out for the weight (by identity). */
  final Set<NDArray> weightsSeen =
      Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

  /** Whether PyTorch recorded gradients during any forward pass. */
  volatile boolean recordedGradients;

  private final Parameter scale;

  FixedBoxModel(float init) {
    scale =
        addParameter(
            Parameter.builder()
                .setName("scale")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(1))
                .optInitializer(new ConstantInitializer(init))
                .build());
  }

  @Override
  public int numClasses() {
    return 2;
  }

  @Override
  public String[] lossNames() {
    return new String[] {"loss_none"};
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    forwardCalls.incrementAndGet();
    recordedGradients |= JniUtils.isGradMode();
    List<Shape> shapes = new ArrayList<>();
    for (NDArray a : inputs) {
      shapes.add(a.getShape());
    }
    lastShapes = shapes;
    boolean stacked = inputs.size() == 1 && inputs.head().getShape().dimension() == 4;
    List<NDArray> images = new ArrayList<>();
    if (stacked) {
      for (int i = 0; i < inputs.head().getShape().get(0); i++) {
        images.add(inputs.head().get(i));
      }
    } else {
      images.addAll(inputs);
    }
    NDArray all =
        NDArrays.concat(new NDList(images.stream().map(NDArray::flatten).toArray(NDArray[]::new)));
    lastInput = all.toFloatArray();
    NDManager m = inputs.head().getManager();
    NDArray weight = ps.getValue(scale, inputs.head().getDevice(), false);
    weightsSeen.add(weight);
    float s = weight.getFloat(0);
    List<Detections> out = new ArrayList<>();
    for (NDArray image : images) {
      float h = image.getShape().get(1);
      float w = image.getShape().get(2);
      NDArray boxes = m.create(new float[] {w / 4, h / 2, 3 * w / 4, h, 0, 0, w / 10, h / 10});
      out.add(
          new Detections(
              boxes.reshape(2, 4),
              m.create(new float[] {0.9f * s, 0.05f}),
              m.create(new long[] {1, 2})));
    }
    return Detections.toNDList(out);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(2, 4)};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... shapes) {}
}
