package dev.jdetect.train.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.List;
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
    NDArray images = inputs.head();
    lastInput = images.toFloatArray();
    NDManager m = images.getManager();
    float h = images.getShape().get(2);
    float w = images.getShape().get(3);
    float s = ps.getValue(scale, images.getDevice(), false).getFloat(0);
    List<Detections> out = new ArrayList<>();
    for (int i = 0; i < images.getShape().get(0); i++) {
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
