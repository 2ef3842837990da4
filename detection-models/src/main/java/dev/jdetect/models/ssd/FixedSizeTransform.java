package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.transform.BilinearResize;
import dev.jdetect.models.transform.Normalization;

/**
 * The input transform of a fixed-size detector (torchvision's {@code GeneralizedRCNNTransform} with
 * {@code fixed_size}, as SSD uses it): {@link Normalization normalise} {@code (x - mean) / std} per
 * channel, then {@link BilinearResize resize} bilinearly ({@code align_corners=False}, no
 * antialiasing) to the model's size, equal to torchvision at any input size; target boxes are
 * scaled into the resized image and predicted boxes back into the original one.
 *
 * <p>Images are float32 RGB {@code (N, 3, H, W)} in {@code [0, 1]}. With resizing switched off the
 * images must already have the model's size.
 */
public final class FixedSizeTransform {

  private final int width;
  private final int height;
  private final Normalization normalization;
  private final boolean resize;
  private final boolean antialias;

  private FixedSizeTransform(Builder b) {
    this.width = b.width;
    this.height = b.height;
    this.normalization = b.normalization;
    this.resize = b.resize;
    this.antialias = b.antialias;
  }

  /**
   * Creates a builder (ImageNet mean/std, resizing on, no antialiasing); the size is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the model input width.
   *
   * @return the width in pixels
   */
  public int width() {
    return width;
  }

  /**
   * Returns the model input height.
   *
   * @return the height in pixels
   */
  public int height() {
    return height;
  }

  /**
   * Returns the input normalisation.
   *
   * @return the mean and standard deviation
   */
  public Normalization normalization() {
    return normalization;
  }

  /**
   * Checks a batch of images: float {@code (N, 3, H, W)} with {@code N >= 1}, finite, and of the
   * model's size when resizing is off.
   *
   * @param images the batch
   * @throws IllegalArgumentException naming the field at fault
   */
  public void validate(NDArray images) {
    if (images == null) {
      throw new IllegalArgumentException("images must not be null");
    }
    Shape s = images.getShape();
    if (s.dimension() != 4 || s.get(0) < 1 || s.get(1) != 3 || s.get(2) < 1 || s.get(3) < 1) {
      throw new IllegalArgumentException(
          "images must be float RGB (N, 3, H, W) with N >= 1, got shape "
              + s
              + (s.dimension() == 4 && s.get(1) != 3
                  ? " (" + s.get(1) + " channels, need 3)"
                  : ""));
    }
    if (!images.getDataType().isFloating()) {
      throw new IllegalArgumentException(
          "images must be floating point in [0, 1], got " + images.getDataType());
    }
    checkFinite(images);
    if (!resize && (s.get(2) != height || s.get(3) != width)) {
      throw new IllegalArgumentException(
          "images must be "
              + height
              + "x"
              + width
              + " (H x W) for this fixed-size model with resizing off, got "
              + s.get(2)
              + "x"
              + s.get(3)
              + " for all "
              + s.get(0)
              + " images of shape "
              + s);
    }
  }

  private static void checkFinite(NDArray images) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray bad = images.isNaN().logicalOr(images.isInfinite());
      if (bad.any().getBoolean()) {
        for (int i = 0; i < images.getShape().get(0); i++) {
          if (bad.get(i).any().getBoolean()) {
            throw new IllegalArgumentException(
                "images: image " + i + " contains NaN or infinite pixel values");
          }
        }
      }
    }
  }

  /**
   * Normalises and resizes a batch.
   *
   * @param images float {@code (N, 3, H, W)} in {@code [0, 1]}
   * @return float {@code (N, 3, height, width)}, on the images' manager
   * @throws IllegalArgumentException if the images are invalid
   */
  public NDArray apply(NDArray images) {
    validate(images);
    NDArray x = normalization.apply(images);
    NDArray resized = BilinearResize.resize(x, height, width, antialias);
    if (resized != x) {
      x.close();
    }
    return resized;
  }

  /**
   * Scales boxes from an image of one size to another (torchvision's {@code resize_boxes}).
   *
   * @param boxes {@code (..., 4)} xyxy boxes
   * @param fromHeight height of the image the boxes refer to
   * @param fromWidth its width
   * @param toHeight height of the target image
   * @param toWidth its width
   * @return scaled boxes, on the boxes' manager
   */
  public static NDArray scaleBoxes(
      NDArray boxes, int fromHeight, int fromWidth, int toHeight, int toWidth) {
    float rw = (float) toWidth / (float) fromWidth;
    float rh = (float) toHeight / (float) fromHeight;
    try (NDArray ratio = boxes.getManager().create(new float[] {rw, rh, rw, rh})) {
      NDArray r = ratio.toDevice(boxes.getDevice(), false);
      NDArray out = boxes.mul(r);
      if (r != ratio) {
        r.close();
      }
      return out;
    }
  }

  /** {@inheritDoc} */
  @Override
  public String toString() {
    return "FixedSizeTransform(size="
        + width
        + "x"
        + height
        + ", "
        + normalization
        + ", resize="
        + resize
        + ", antialias="
        + antialias
        + ")";
  }

  /** Builder for {@link FixedSizeTransform}: the size is required, the rest optional. */
  public static final class Builder {
    private int width = -1;
    private int height = -1;
    private Normalization normalization = Normalization.imagenet();
    private boolean resize = true;
    private boolean antialias;

    private Builder() {}

    /**
     * Sets the model input size (required).
     *
     * @param width the width in pixels
     * @param height the height in pixels
     * @return this builder
     */
    public Builder setSize(int width, int height) {
      this.width = width;
      this.height = height;
      return this;
    }

    /**
     * Sets the per-channel mean and standard deviation (default ImageNet's).
     *
     * @param mean three values, RGB, subtracted from {@code [0, 1]} images
     * @param std three positive values, RGB, divided by
     * @return this builder
     * @throws IllegalArgumentException if there are not three of each or a std is not positive
     */
    public Builder optNormalization(float[] mean, float[] std) {
      this.normalization = Normalization.of(mean, std);
      return this;
    }

    /**
     * Sets whether images of another size are resized (default true, as torchvision); when false
     * they are rejected.
     *
     * @param resize whether to resize
     * @return this builder
     */
    public Builder optResize(boolean resize) {
      this.resize = resize;
      return this;
    }

    /**
     * Sets whether shrinking averages over each output pixel's footprint (default false, as
     * torchvision's detection transforms; see {@link BilinearResize}).
     *
     * @param antialias whether to antialias
     * @return this builder
     */
    public Builder optAntialias(boolean antialias) {
      this.antialias = antialias;
      return this;
    }

    /**
     * Builds the transform.
     *
     * @return the transform
     * @throws IllegalArgumentException if the size was not set or is not positive
     */
    public FixedSizeTransform build() {
      if (width <= 0 || height <= 0) {
        throw new IllegalArgumentException(
            "size must be positive (setSize), got " + width + "x" + height);
      }
      return new FixedSizeTransform(this);
    }
  }
}
