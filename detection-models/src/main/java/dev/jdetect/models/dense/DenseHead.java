package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A dense detection head of two {@link DenseBranch}es shared by every pyramid level, named {@code
 * classification_head} and {@code regression_head} as torchvision's RetinaNet and FCOS heads.
 * Forward: one {@code (N, C, H_l, W_l)} map per level in; out the classification branch's outputs
 * followed by the regression branch's.
 */
public abstract class DenseHead extends AbstractBlock {

  private static final byte VERSION = 1;

  private final DenseBranch classification;
  private final DenseBranch regression;

  /**
   * Creates the head.
   *
   * @param classification the classification branch
   * @param regression the regression branch
   */
  protected DenseHead(DenseBranch classification, DenseBranch regression) {
    super(VERSION);
    this.classification = addChildBlock("classification_head", classification);
    this.regression = addChildBlock("regression_head", regression);
  }

  /** {@code (N, A * k, H, W)} to {@code (N, H * W * A, k)}, as torchvision's view and permute. */
  static NDArray perAnchor(NDArray map, int numAnchors, int k) {
    Shape s = map.getShape();
    return map.reshape(s.get(0), numAnchors, k, s.get(2), s.get(3))
        .transpose(0, 3, 4, 1, 2)
        .reshape(s.get(0), -1, k);
  }

  /** Concatenates per-level arrays along the anchor axis. */
  static NDArray concat(NDList parts) {
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList out = classification.forward(parameterStore, inputs, training);
    out.addAll(regression.forward(parameterStore, inputs, training));
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] cls = classification.getOutputShapes(inputShapes);
    Shape[] reg = regression.getOutputShapes(inputShapes);
    Shape[] out = new Shape[cls.length + reg.length];
    System.arraycopy(cls, 0, out, 0, cls.length);
    System.arraycopy(reg, 0, out, cls.length, reg.length);
    return out;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    classification.initialize(manager, dataType, inputShapes);
    regression.initialize(manager, dataType, inputShapes);
  }
}
