package dev.jdetect.models;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/**
 * The DJL plumbing of a detector whose inference and training passes are two named methods, {@link
 * #detect} and {@link #losses}: the plain {@code forward} detects, the {@code forward} with labels
 * computes the losses, and the output shapes are those of {@link Detections#toNDList}. Faster
 * R-CNN, RetinaNet and FCOS extend it.
 */
public abstract class DetectorBlock extends AbstractBlock implements DetectionModel {

  /**
   * Creates the block.
   *
   * @param version the block's version, saved with its parameters
   */
  protected DetectorBlock(byte version) {
    super(version);
  }

  /**
   * Detects objects in a batch.
   *
   * @param parameterStore the parameter store
   * @param images a stacked {@code (N, 3, H, W)} batch or {@code (3, H_i, W_i)} images
   * @return one {@link Detections} per image, in original-image pixels
   */
  public abstract List<Detections> detect(ParameterStore parameterStore, NDList images);

  /**
   * Computes the training losses of a batch.
   *
   * @param parameterStore the parameter store
   * @param images the images
   * @param targets the padded targets ({@link Targets})
   * @return the named scalar losses, in {@link #lossNames()} order
   */
  public abstract NDList losses(ParameterStore parameterStore, NDList images, NDList targets);

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    if (training) {
      throw new IllegalArgumentException(
          "a training forward pass needs targets: call forward(parameterStore, images, targets,"
              + " params)");
    }
    return Detections.toNDList(detect(parameterStore, inputs));
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore, NDList data, NDList labels, PairList<String, Object> params) {
    if (labels == null) {
      return forwardInternal(parameterStore, data, false, params);
    }
    return losses(parameterStore, data, labels);
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return Detections.outputShapes(inputShapes);
  }
}
