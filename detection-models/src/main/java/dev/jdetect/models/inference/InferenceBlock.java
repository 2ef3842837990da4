package dev.jdetect.models.inference;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.models.DetectionModel;

/**
 * The block a loaded jdetect {@code ZooModel} runs: a {@link DetectionModel} in inference mode with
 * PyTorch's autograd recording off on the calling thread. PyTorch records by default on every new
 * thread, so without this a predictor used from a thread pool would build autograd graphs and take
 * the slower differentiable kernels.
 *
 * <p>The block holds no state of its own: any number of predictors may run it at once, sharing the
 * model's one copy of the weights.
 */
public final class InferenceBlock extends AbstractBlock {

  private final DetectionModel model;

  /**
   * Wraps a model.
   *
   * @param model the detection model, initialised or not
   */
  public InferenceBlock(DetectionModel model) {
    this.model = addChildBlock("model", model);
  }

  /**
   * Returns the wrapped model.
   *
   * @return the model
   */
  public DetectionModel model() {
    return model;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    try (Autograd.NoGradient noGradient = Autograd.noGradient()) {
      return model.forward(parameterStore, inputs, false, params);
    }
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return model.getOutputShapes(inputShapes);
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    model.initialize(manager, dataType, inputShapes);
  }
}
