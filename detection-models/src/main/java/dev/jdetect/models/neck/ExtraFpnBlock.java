package dev.jdetect.models.neck;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Extra pyramid levels computed after the top-down pass (torchvision's {@code ExtraFPNBlock}): it
 * sees the pyramid outputs and the backbone's inputs to the pyramid and appends levels. Used on its
 * own as a block, it takes one list of maps as both.
 */
public abstract class ExtraFpnBlock extends AbstractBlock {

  /**
   * Returns how many levels this block appends.
   *
   * @return the number of extra levels
   */
  public abstract int extraLevels();

  /**
   * Computes the extra levels.
   *
   * @param parameterStore the parameter store
   * @param pyramid the pyramid outputs, finest first
   * @param inputs the backbone features the pyramid was built from, finest first
   * @param training whether this is a training pass
   * @return the extra levels, in order
   */
  public abstract NDList extraLevels(
      ParameterStore parameterStore, NDList pyramid, NDList inputs, boolean training);

  /**
   * Returns the shapes of the extra levels.
   *
   * @param pyramid the shapes of the pyramid outputs
   * @param inputs the shapes of the backbone features
   * @return one shape per extra level
   */
  public abstract Shape[] extraShapes(Shape[] pyramid, Shape[] inputs);

  /**
   * Initialises the block's parameters, if it has any.
   *
   * @param manager the manager of the parameters
   * @param dataType their data type
   * @param pyramid the shapes of the pyramid outputs
   * @param inputs the shapes of the backbone features
   */
  public abstract void initializeExtra(
      NDManager manager, DataType dataType, Shape[] pyramid, Shape[] inputs);

  /** {@inheritDoc} */
  @Override
  protected final NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    return extraLevels(parameterStore, inputs, inputs, training);
  }

  /** {@inheritDoc} */
  @Override
  public final Shape[] getOutputShapes(Shape[] inputShapes) {
    return extraShapes(inputShapes, inputShapes);
  }
}
