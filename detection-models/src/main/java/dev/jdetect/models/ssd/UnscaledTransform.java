package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * An input transform that passes images through as given (no normalisation, no resizing) after
 * checking that they are a batch of at least a minimum size; TinySSD's.
 */
public final class UnscaledTransform implements SsdTransform {

  private final int minSize;

  /**
   * Creates the transform.
   *
   * @param minSize the smallest height and width accepted
   */
  public UnscaledTransform(int minSize) {
    this.minSize = minSize;
  }

  @Override
  public void validate(NDArray images) {
    Shape s = images == null ? null : images.getShape();
    if (s == null
        || s.dimension() != 4
        || s.get(1) != 3
        || s.get(2) < minSize
        || s.get(3) < minSize) {
      throw new IllegalArgumentException(
          "images: expected (N, 3, H, W) with H, W >= " + minSize + ", got " + s);
    }
  }

  @Override
  public NDArray apply(NDArray images) {
    validate(images);
    return images;
  }

  @Override
  public Shape inputShape(Shape imageShape) {
    return imageShape;
  }

  @Override
  public String toString() {
    return "UnscaledTransform(minSize=" + minSize + ")";
  }
}
