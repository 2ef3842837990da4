package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The last layer of the box branch (torchvision's {@code FastRCNNPredictor}): {@code cls_score}
 * gives {@code C + 1} class logits (background first) and {@code bbox_pred} {@code 4 (C + 1)}
 * class-specific box deltas per RoI.
 *
 * <p>Forward: {@code (K, D)} (or {@code (K, D, 1, 1)}) in; out {@code {class logits (K, C+1), box
 * deltas (K, 4(C+1))}}.
 */
public final class FastRcnnPredictor extends AbstractBlock {

  private static final byte VERSION = 1;

  private final int numClasses;
  private final Linear clsScore;
  private final Linear bboxPred;

  /**
   * Creates a predictor.
   *
   * @param numClasses object classes without background ({@code C}); the layers have {@code C + 1}
   *     outputs
   * @throws IllegalArgumentException if {@code numClasses < 1}
   */
  public FastRcnnPredictor(int numClasses) {
    super(VERSION);
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
    this.numClasses = numClasses;
    this.clsScore = addChildBlock("cls_score", Linear.builder().setUnits(numClasses + 1).build());
    this.bboxPred =
        addChildBlock("bbox_pred", Linear.builder().setUnits(4L * (numClasses + 1)).build());
  }

  /**
   * Returns the number of object classes (background excluded).
   *
   * @return {@code C}
   */
  public int getNumClasses() {
    return numClasses;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    if (x.getShape().dimension() == 4) {
      if (x.getShape().get(2) != 1 || x.getShape().get(3) != 1) {
        throw new IllegalArgumentException(
            "4-d predictor input must be (K, D, 1, 1), got " + x.getShape());
      }
    } else if (x.getShape().dimension() != 2) {
      throw new IllegalArgumentException("predictor input must be (K, D), got " + x.getShape());
    }
    NDList flat = new NDList(x.reshape(x.getShape().get(0), -1));
    NDArray scores = clsScore.forward(parameterStore, flat, training).singletonOrThrow();
    NDArray deltas = bboxPred.forward(parameterStore, flat, training).singletonOrThrow();
    return new NDList(scores, deltas);
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    long k = inputShapes[0].get(0);
    return new Shape[] {new Shape(k, numClasses + 1L), new Shape(k, 4L * (numClasses + 1))};
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = inputShapes[0];
    long d = in.size() / in.get(0);
    TwoMlpHead.initLinear(clsScore, d);
    TwoMlpHead.initLinear(bboxPred, d);
    clsScore.initialize(manager, dataType, new Shape(in.get(0), d));
    bboxPred.initialize(manager, dataType, new Shape(in.get(0), d));
  }
}
