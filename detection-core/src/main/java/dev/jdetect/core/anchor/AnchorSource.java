package dev.jdetect.core.anchor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * A source of the anchors (default boxes, priors) of a single-shot detector: a fixed number of
 * boxes at every cell of every feature map, in the order a head that flattens its maps row-major
 * predicts them.
 */
public interface AnchorSource {

  /**
   * Returns the number of boxes at each cell of each feature map.
   *
   * @return one count per level
   */
  int[] numAnchorsPerLocation();

  /**
   * Generates the anchors of one input image.
   *
   * @param manager the manager (and device) of the result
   * @param featureShapes one shape per level; its last two axes are the grid {@code (H_k, W_k)}
   * @param imageHeight the input image height in pixels
   * @param imageWidth the input image width in pixels
   * @return float32 {@code (sum_k H_k * W_k * A_k, 4)} boxes {@code (x1, y1, x2, y2)} in input
   *     pixels
   * @throws IllegalArgumentException if the shapes or the image size are invalid
   */
  NDArray generate(NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth);
}
