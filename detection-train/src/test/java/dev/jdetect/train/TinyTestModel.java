package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.List;

/**
 * A test-only detector: conv + batch norm + global pooling, then one box (sigmoid, relative xyxy)
 * and one class per image. Training losses: {@code loss_classifier} (cross-entropy against the
 * first object's class) and {@code loss_box_reg} (mean squared error against its relative box),
 * both means over the batch.
 */
public final class TinyTestModel extends AbstractBlock implements DetectionModel {

  private final int numClasses;
  private final Block features;
  private final Block boxHead;
  private final Block classHead;
  private final boolean poisonGradient;

  TinyTestModel(int numClasses) {
    this(numClasses, false);
  }

  /**
   * Creates the model.
   *
   * @param numClasses object classes
   * @param poisonGradient add {@code sqrt(0 * logits)} to the box loss: its value is 0 but its
   *     gradient is NaN
   */
  TinyTestModel(int numClasses, boolean poisonGradient) {
    this(numClasses, poisonGradient, true);
  }

  private TinyTestModel(int numClasses, boolean poisonGradient, boolean batchNorm) {
    this.numClasses = numClasses;
    this.poisonGradient = poisonGradient;
    SequentialBlock first =
        new SequentialBlock()
            .add(
                Conv2d.builder()
                    .setKernelShape(new Shape(3, 3))
                    .optPadding(new Shape(1, 1))
                    .setFilters(8)
                    .build());
    if (batchNorm) {
      first.add(BatchNorm.builder().build());
    }
    features =
        addChildBlock(
            "features",
            first
                .add(Activation::relu)
                .add(
                    Conv2d.builder()
                        .setKernelShape(new Shape(3, 3))
                        .optPadding(new Shape(1, 1))
                        .setFilters(8)
                        .build())
                .add(Activation::relu)
                .add(Pool.globalAvgPool2dBlock()));
    boxHead = addChildBlock("box", Linear.builder().setUnits(4).build());
    classHead = addChildBlock("cls", Linear.builder().setUnits(numClasses + 1).build());
  }

  /**
   * Creates the model without its batch norm: every image's losses then depend on that image alone,
   * so the batch losses are exact means of per-image losses.
   *
   * @param numClasses object classes
   * @return the model
   */
  public static TinyTestModel withoutBatchNorm(int numClasses) {
    return new TinyTestModel(numClasses, false, false);
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public String[] lossNames() {
    return new String[] {"loss_classifier", "loss_box_reg"};
  }

  private NDArray[] heads(ParameterStore ps, NDArray images, boolean training) {
    NDArray f = features.forward(ps, new NDList(images), training).singletonOrThrow();
    NDArray box = boxHead.forward(ps, new NDList(f), training).singletonOrThrow();
    box = Activation.sigmoid(box);
    NDArray logits = classHead.forward(ps, new NDList(f), training).singletonOrThrow();
    return new NDArray[] {box, logits};
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray images = inputs.head();
    long h = images.getShape().get(2);
    long w = images.getShape().get(3);
    NDArray[] out = heads(ps, images, false);
    NDManager m = images.getManager();
    NDArray scale = m.create(new float[] {w, h, w, h});
    NDArray boxes = out[0].mul(scale);
    NDArray probs = out[1].softmax(1).get(":, 1:");
    NDArray scores = probs.max(new int[] {1});
    NDArray labels = probs.argMax(1).add(1).toType(DataType.INT64, false);
    List<Detections> dets = new ArrayList<>();
    for (int i = 0; i < images.getShape().get(0); i++) {
      dets.add(
          new Detections(
              boxes.get(i + ":" + (i + 1)),
              scores.get(i + ":" + (i + 1)),
              labels.get(i + ":" + (i + 1))));
    }
    return Detections.toNDList(dets);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList data, NDList labels, PairList<String, Object> params) {
    NDArray images = data.head();
    long h = images.getShape().get(2);
    long w = images.getShape().get(3);
    NDArray[] out = heads(ps, images, true);
    NDManager m = images.getManager();
    NDArray target = labels.get(0).get(":, 0, :").div(m.create(new float[] {w, h, w, h}));
    NDArray cls = labels.get(1).get(":, 0");
    NDArray logp = out[1].logSoftmax(1);
    NDArray onehot = cls.oneHot(numClasses + 1).toType(DataType.FLOAT32, false);
    NDArray lossCls = logp.mul(onehot).sum(new int[] {1}).neg().mean();
    NDArray lossBox = out[0].sub(target).square().mean();
    if (poisonGradient) {
      lossBox = lossBox.add(out[1].mul(0f).sum().sqrt());
    }
    lossCls.setName("loss_classifier");
    lossBox.setName("loss_box_reg");
    return new NDList(lossCls, lossBox);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), 4)};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    features.initialize(manager, dataType, inputShapes[0]);
    Shape f = features.getOutputShapes(new Shape[] {inputShapes[0]})[0];
    boxHead.initialize(manager, dataType, f);
    classHead.initialize(manager, dataType, f);
  }
}
