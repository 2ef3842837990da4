package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import dev.jdetect.models.Detections;
import java.util.List;

/** Turns the head outputs of an {@link Ssd} into detections (decoding, score filter, NMS). */
public interface SsdDecoder {

  /**
   * Post-processes a batch whose images all share one input size.
   *
   * @param clsLogits {@code (N, A, C + 1)} class logits (index 0 is background)
   * @param bboxRegression {@code (N, A, 4)} predicted box offsets
   * @param anchors {@code (A, 4)} anchors, xyxy in the pixels of the model input
   * @param inputHeight height of the model input the anchors refer to
   * @param inputWidth its width
   * @param originalHeight height of the images as given
   * @param originalWidth their width
   * @return one {@link Detections} per image, sorted by descending score, boxes in the pixels of
   *     the images as given, on {@code clsLogits}' manager
   * @throws IllegalArgumentException if the shapes do not agree
   */
  List<Detections> process(
      NDArray clsLogits,
      NDArray bboxRegression,
      NDArray anchors,
      int inputHeight,
      int inputWidth,
      int originalHeight,
      int originalWidth);
}
