package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * The SSD head (torchvision's {@code SSDHead}): a classification branch and a box-regression
 * branch, each a {@link ScoringHead} over the same feature sources.
 *
 * <p>Input: one feature map per source. Output: {@code {cls_logits (N, A, numClasses + 1),
 * bbox_regression (N, A, 4)}} with {@code A = sum_i H_i W_i A_i} in default-box order.
 */
public class SsdHead extends AbstractBlock {

  private final ScoringHead classificationHead;
  private final ScoringHead regressionHead;

  /**
   * Creates a head from two branches (e.g. SSDlite's depthwise-separable ones).
   *
   * @param classificationHead the class branch, {@code K = numClasses + 1}
   * @param regressionHead the box branch, {@code K = 4}
   * @throws IllegalArgumentException if the box branch does not emit 4 values per box or the
   *     branches cover different numbers of sources
   */
  public SsdHead(ScoringHead classificationHead, ScoringHead regressionHead) {
    if (regressionHead.numColumns() != 4) {
      throw new IllegalArgumentException(
          "regressionHead must emit 4 values per box, got " + regressionHead.numColumns());
    }
    if (classificationHead.moduleList().size() != regressionHead.moduleList().size()) {
      throw new IllegalArgumentException(
          "branches cover "
              + classificationHead.moduleList().size()
              + " and "
              + regressionHead.moduleList().size()
              + " sources");
    }
    this.classificationHead = addChildBlock("classification_head", classificationHead);
    this.regressionHead = addChildBlock("regression_head", regressionHead);
  }

  /**
   * Creates the standard SSD head: a 3x3 convolution (padding 1) per source and branch, weights
   * Xavier-uniform and biases zero when freshly initialised (torchvision's {@code SSDHead}).
   *
   * @param inChannels channels of each source
   * @param anchorsPerLocation default boxes per location of each source
   * @param numClassesWithBackground classes including background ({@code numClasses + 1})
   * @return the head
   * @throws IllegalArgumentException if the arrays differ in length or hold non-positive values
   */
  public static SsdHead conv3x3(
      int[] inChannels, int[] anchorsPerLocation, int numClassesWithBackground) {
    if (inChannels.length != anchorsPerLocation.length || inChannels.length == 0) {
      throw new IllegalArgumentException(
          "inChannels ("
              + inChannels.length
              + ") and anchorsPerLocation ("
              + anchorsPerLocation.length
              + ") must have the same, non-zero length");
    }
    if (numClassesWithBackground < 2) {
      throw new IllegalArgumentException(
          "numClassesWithBackground must be >= 2, got " + numClassesWithBackground);
    }
    List<Block> cls = new ArrayList<>();
    List<Block> reg = new ArrayList<>();
    for (int i = 0; i < inChannels.length; i++) {
      if (inChannels[i] <= 0 || anchorsPerLocation[i] <= 0) {
        throw new IllegalArgumentException("source " + i + ": channels and anchors must be > 0");
      }
      cls.add(conv3x3(anchorsPerLocation[i] * numClassesWithBackground));
      reg.add(conv3x3(anchorsPerLocation[i] * 4));
    }
    return new SsdHead(new ScoringHead(cls, numClassesWithBackground), new ScoringHead(reg, 4));
  }

  private static Block conv3x3(int filters) {
    Conv2d conv =
        Conv2d.builder()
            .setKernelShape(new Shape(3, 3))
            .optPadding(new Shape(1, 1))
            .setFilters(filters)
            .build();
    // torchvision's _xavier_init: xavier_uniform_ weights, zero bias (DJL's bias default)
    conv.setInitializer(VggFeatureExtractor.XAVIER_UNIFORM, Parameter.Type.WEIGHT);
    return conv;
  }

  /**
   * Returns the classification branch.
   *
   * @return the branch
   */
  public ScoringHead classificationHead() {
    return classificationHead;
  }

  /**
   * Returns the box-regression branch.
   *
   * @return the branch
   */
  public ScoringHead regressionHead() {
    return regressionHead;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray cls = classificationHead.forward(parameterStore, inputs, training, params).get(0);
    NDArray box = regressionHead.forward(parameterStore, inputs, training, params).get(0);
    cls.setName("cls_logits");
    box.setName("bbox_regression");
    return new NDList(cls, box);
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {
      classificationHead.getOutputShapes(inputShapes)[0],
      regressionHead.getOutputShapes(inputShapes)[0]
    };
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    classificationHead.initialize(manager, dataType, inputShapes);
    regressionHead.initialize(manager, dataType, inputShapes);
  }
}
