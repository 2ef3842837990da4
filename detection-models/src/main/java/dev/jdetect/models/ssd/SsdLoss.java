package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/** The training loss of an {@link Ssd}: from head outputs, anchors and ground truth to losses. */
public interface SsdLoss {

  /**
   * Computes the losses of a batch.
   *
   * @param clsLogits {@code (N, A, C + 1)} class logits
   * @param bboxRegression {@code (N, A, 4)} predicted box offsets
   * @param anchors {@code (A, 4)} anchors, xyxy in the pixels of the model input
   * @param targets one per image, boxes in the same pixels; an image may have no boxes
   * @return {@code {loss_bbox_regression, loss_classification}} named scalars on {@code clsLogits}'
   *     manager
   * @throws IllegalArgumentException if the shapes do not agree
   */
  NDList compute(
      NDArray clsLogits, NDArray bboxRegression, NDArray anchors, List<ImageTargets> targets);
}
