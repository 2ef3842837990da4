package dev.jdetect.models;

import ai.djl.ndarray.NDArray;

/**
 * The ground truth of one image.
 *
 * @param boxes {@code (G, 4)} float boxes {@code (x1, y1, x2, y2)}; {@code G} may be 0
 * @param labels {@code (G)} int64 object classes {@code 1..C}
 */
public record ImageTargets(NDArray boxes, NDArray labels) {

  /**
   * Returns the number of objects.
   *
   * @return {@code G}
   */
  public long size() {
    return boxes.getShape().get(0);
  }
}
