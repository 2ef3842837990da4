package dev.jdetect.models.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.Scalars;
import java.util.Arrays;

/**
 * Per-channel input normalisation {@code (x - mean) / std} of RGB images in {@code [0, 1]}, as
 * torchvision's detection transforms apply it before resizing.
 */
public final class Normalization {

  private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  private final float[] mean;
  private final float[] std;

  private Normalization(float[] mean, float[] std) {
    this.mean = mean;
    this.std = std;
  }

  /**
   * Returns the ImageNet statistics torchvision's detection models use: mean {@code (0.485, 0.456,
   * 0.406)}, std {@code (0.229, 0.224, 0.225)}.
   *
   * @return the normalisation
   */
  public static Normalization imagenet() {
    return new Normalization(IMAGENET_MEAN.clone(), IMAGENET_STD.clone());
  }

  /**
   * Creates a normalisation.
   *
   * @param mean three values (R, G, B) subtracted from {@code [0, 1]} images
   * @param std three finite positive values (R, G, B) the result is divided by
   * @return the normalisation
   * @throws IllegalArgumentException if there are not three of each or a std is not positive
   */
  public static Normalization of(float[] mean, float[] std) {
    if (mean == null || std == null || mean.length != 3 || std.length != 3) {
      throw new IllegalArgumentException(
          "mean and std need 3 values (R, G, B), got "
              + Arrays.toString(mean)
              + " and "
              + Arrays.toString(std));
    }
    for (int c = 0; c < 3; c++) {
      if (!Float.isFinite(mean[c]) || !(std[c] > 0) || !Float.isFinite(std[c])) {
        throw new IllegalArgumentException(
            "mean must be finite and std finite and positive, got mean "
                + Arrays.toString(mean)
                + ", std "
                + Arrays.toString(std));
      }
    }
    return new Normalization(mean.clone(), std.clone());
  }

  /**
   * Returns the mean.
   *
   * @return a copy of the three values
   */
  public float[] mean() {
    return mean.clone();
  }

  /**
   * Returns the standard deviation.
   *
   * @return a copy of the three values
   */
  public float[] std() {
    return std.clone();
  }

  /**
   * Normalises one image {@code (3, H, W)} or a batch {@code (N, 3, H, W)}.
   *
   * @param images float RGB images in {@code [0, 1]}
   * @return {@code (images - mean) / std} per channel, on the images' manager and device
   */
  public NDArray apply(NDArray images) {
    NDManager manager = images.getManager();
    Shape channel = new Shape(3, 1, 1);
    try (NDArray m = manager.create(mean, channel);
        NDArray s = Scalars.constant(manager, std, channel)) {
      NDArray md = m.toDevice(images.getDevice(), false);
      NDArray sd = s.toDevice(images.getDevice(), false);
      NDArray out = images.sub(md).div(sd);
      if (md != m) {
        md.close();
      }
      if (sd != s) {
        sd.close();
      }
      return out;
    }
  }

  /** {@inheritDoc} */
  @Override
  public boolean equals(Object o) {
    return o instanceof Normalization
        && Arrays.equals(mean, ((Normalization) o).mean)
        && Arrays.equals(std, ((Normalization) o).std);
  }

  /** {@inheritDoc} */
  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
  }

  /** {@inheritDoc} */
  @Override
  public String toString() {
    return "Normalization(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
  }
}
