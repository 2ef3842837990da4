package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * How an {@link Ssd} turns the images it is given into the input of its backbone (normalising,
 * resizing). Boxes are scaled between the given images and the model input by the ratio of their
 * sizes.
 */
public interface SsdTransform {

  /**
   * Checks that the images are a batch this transform accepts.
   *
   * @param images float32 {@code (N, 3, H, W)}
   * @throws IllegalArgumentException naming the problem if they are not
   */
  void validate(NDArray images);

  /**
   * Transforms a batch of images.
   *
   * @param images float32 RGB {@code (N, 3, H, W)} in {@code [0, 1]}
   * @return the model input, shaped as {@link #inputShape} says
   * @throws IllegalArgumentException if the images are not a valid batch
   */
  NDArray apply(NDArray images);

  /**
   * Returns the shape of the model input for images of a shape.
   *
   * @param imageShape {@code (N, 3, H, W)}
   * @return {@code (N, 3, h, w)}
   */
  Shape inputShape(Shape imageShape);

  /**
   * Wraps torchvision's fixed-size SSD transform.
   *
   * @param transform the transform
   * @return the transform as an {@code SsdTransform}
   */
  static SsdTransform fixedSize(FixedSizeTransform transform) {
    if (transform == null) {
      throw new IllegalArgumentException("transform must not be null");
    }
    return new SsdTransform() {
      @Override
      public void validate(NDArray images) {
        transform.validate(images);
      }

      @Override
      public NDArray apply(NDArray images) {
        return transform.apply(images);
      }

      @Override
      public Shape inputShape(Shape imageShape) {
        return new Shape(
            imageShape.get(0), imageShape.get(1), transform.height(), transform.width());
      }

      @Override
      public String toString() {
        return transform.toString();
      }
    };
  }
}
