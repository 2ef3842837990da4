package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The images of a batch after {@link RcnnTransform}: normalised, resized and zero-padded to one
 * {@code (N, 3, H, W)} tensor, together with the size of every image before and after resizing.
 *
 * <p>Sizes are {@code {height, width}} pairs. Boxes inside the model live in the resized pixels
 * ({@link #imageSizes()}); detections go back to {@link #originalSizes()}.
 */
public final class ImageBatch {

  private final NDArray tensor;
  private final List<int[]> imageSizes;
  private final List<int[]> originalSizes;

  /**
   * Creates a batch.
   *
   * @param tensor the padded batch {@code (N, 3, H, W)}
   * @param imageSizes {@code {h, w}} of each image after resizing (before padding)
   * @param originalSizes {@code {h, w}} of each image as it was given
   * @throws IllegalArgumentException if the counts disagree
   */
  public ImageBatch(NDArray tensor, List<int[]> imageSizes, List<int[]> originalSizes) {
    long n = tensor.getShape().dimension() == 4 ? tensor.getShape().get(0) : -1;
    if (n != imageSizes.size() || n != originalSizes.size()) {
      throw new IllegalArgumentException(
          "tensor "
              + tensor.getShape()
              + " must be (N,3,H,W) with N = imageSizes ("
              + imageSizes.size()
              + ") = originalSizes ("
              + originalSizes.size()
              + ")");
    }
    this.tensor = tensor;
    this.imageSizes = copy(imageSizes);
    this.originalSizes = copy(originalSizes);
  }

  private static List<int[]> copy(List<int[]> sizes) {
    List<int[]> out = new ArrayList<>(sizes.size());
    for (int[] s : sizes) {
      out.add(new int[] {s[0], s[1]});
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Returns the padded image tensor.
   *
   * @return {@code (N, 3, H, W)} float32
   */
  public NDArray tensor() {
    return tensor;
  }

  /**
   * Returns the number of images.
   *
   * @return {@code N}
   */
  public int size() {
    return imageSizes.size();
  }

  /**
   * Returns the padded height of the batch.
   *
   * @return {@code H}
   */
  public int paddedHeight() {
    return (int) tensor.getShape().get(2);
  }

  /**
   * Returns the padded width of the batch.
   *
   * @return {@code W}
   */
  public int paddedWidth() {
    return (int) tensor.getShape().get(3);
  }

  /**
   * Returns the size of each image after resizing, before padding.
   *
   * @return unmodifiable list of {@code {h, w}}
   */
  public List<int[]> imageSizes() {
    return imageSizes;
  }

  /**
   * Returns the size of each image as it was given to the model.
   *
   * @return unmodifiable list of {@code {h, w}}
   */
  public List<int[]> originalSizes() {
    return originalSizes;
  }
}
