package dev.jdetect.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

/**
 * One training batch: images {@code (B, 3, H, W)} float32 RGB in {@code [0, 1]} and their targets
 * in the padded {@link dev.jdetect.models.Targets} form {@code {boxes (B, Nmax, 4), classes (B,
 * Nmax)}}.
 */
public final class TrainingBatch {

  private final NDArray images;
  private final NDList targets;

  /**
   * Creates a batch.
   *
   * @param images {@code (B, 3, H, W)} float32 images
   * @param targets {@code {boxes (B, Nmax, 4), classes (B, Nmax)}}
   * @throws IllegalArgumentException if the shapes do not agree
   */
  public TrainingBatch(NDArray images, NDList targets) {
    Shape s = images.getShape();
    if (s.dimension() != 4 || s.get(1) != 3) {
      throw new IllegalArgumentException("images must be (B,3,H,W), got " + s);
    }
    if (targets == null
        || targets.size() < 2
        || targets.get(0).getShape().dimension() != 3
        || targets.get(0).getShape().get(0) != s.get(0)
        || targets.get(1).getShape().dimension() != 2
        || targets.get(1).getShape().get(0) != s.get(0)) {
      throw new IllegalArgumentException(
          "targets must be {boxes (B,Nmax,4), classes (B,Nmax)} with B="
              + s.get(0)
              + ", got "
              + (targets == null ? "null" : targets.getShapes()));
    }
    this.images = images;
    this.targets = targets;
  }

  /**
   * Returns the images.
   *
   * @return {@code (B, 3, H, W)}
   */
  public NDArray getImages() {
    return images;
  }

  /**
   * Returns the targets.
   *
   * @return {@code {boxes, classes}}
   */
  public NDList getTargets() {
    return targets;
  }

  /**
   * Returns the batch size.
   *
   * @return {@code B}
   */
  public int size() {
    return (int) images.getShape().get(0);
  }
}
