package dev.jdetect.core.anchor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Anchor boxes of Dive into Deep Learning's {@code multibox_prior} (section "Anchor Boxes"), the
 * prior used by TinySSD. Unlike DJL's {@code MultiBoxPrior} on PyTorch it returns {@code n + m - 1}
 * boxes per pixel for any number of sizes.
 *
 * <p>With sizes {@code s_1..s_n} and ratios {@code r_1..r_m} (ratio = width / height of the
 * normalised box) every pixel of an {@code H x W} map gets the boxes {@code (s_i, r_1)} for all
 * sizes followed by {@code (s_1, r_j)} for {@code j >= 2}. A box has relative width {@code s
 * sqrt(r) * H / W} (D2L's correction for non-square maps) and height {@code s / sqrt(r)}, centred
 * at {@code ((x + 0.5) / W, (y + 0.5) / H)}. Output is float32 relative {@code (x1, y1, x2, y2)},
 * positions row-major with the boxes of a pixel contiguous (D2L's order, without its leading batch
 * axis). Instances are immutable and thread-safe.
 */
public final class MultiBoxPrior {

  private final float[] sizes;
  private final float[] ratios;

  private MultiBoxPrior(Builder b) {
    if (b.sizes == null || b.ratios == null) {
      throw new IllegalArgumentException("sizes and ratios must both be set");
    }
    this.sizes = b.sizes.clone();
    this.ratios = b.ratios.clone();
  }

  /**
   * Returns a builder; sizes and ratios must be set.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the number of boxes per pixel, {@code n + m - 1}.
   *
   * @return the count
   */
  public int numAnchorsPerLocation() {
    return sizes.length + ratios.length - 1;
  }

  /**
   * Generates the anchors of an {@code height x width} feature map.
   *
   * @param manager the manager (and device) of the result
   * @param height feature map height, positive
   * @param width feature map width, positive
   * @return float32 {@code (height * width * (n + m - 1), 4)} relative xyxy boxes
   * @throws IllegalArgumentException if a dimension is not positive
   */
  public NDArray generate(NDManager manager, int height, int width) {
    if (manager == null) {
      throw new IllegalArgumentException("manager must not be null");
    }
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException(
          "feature map size must be positive, got height=" + height + ", width=" + width);
    }
    int a = numAnchorsPerLocation();
    float[] offsets = new float[a * 4];
    for (int i = 0; i < a; i++) {
      // float32 arithmetic in D2L's order: (s * sqrt(r)) * H / W for widths, s / sqrt(r) heights.
      float size = i < sizes.length ? sizes[i] : sizes[0];
      float ratio = i < sizes.length ? ratios[0] : ratios[i - sizes.length + 1];
      float sqrtRatio = (float) Math.sqrt(ratio);
      float w = size * sqrtRatio * height / width;
      float h = size / sqrtRatio;
      offsets[4 * i] = -w / 2f;
      offsets[4 * i + 1] = -h / 2f;
      offsets[4 * i + 2] = w / 2f;
      offsets[4 * i + 3] = h / 2f;
    }
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Shape grid = new Shape(height, width, 1, 1);
      NDArray cx =
          manager
              .arange(0.5f, width, 1f)
              .mul((float) (1.0 / width))
              .reshape(1, width, 1, 1)
              .broadcast(grid);
      NDArray cy =
          manager
              .arange(0.5f, height, 1f)
              .mul((float) (1.0 / height))
              .reshape(height, 1, 1, 1)
              .broadcast(grid);
      NDArray centres = NDArrays.concat(new NDList(cx, cy, cx, cy), 3); // (H, W, 1, 4)
      NDArray base = manager.create(offsets, new Shape(1, 1, a, 4));
      out = centres.add(base).reshape((long) height * width * a, 4);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  @Override
  public String toString() {
    return "MultiBoxPrior(sizes="
        + Arrays.toString(sizes)
        + ", ratios="
        + Arrays.toString(ratios)
        + ")";
  }

  /** Builder for {@link MultiBoxPrior}. */
  public static final class Builder {

    private float[] sizes;
    private float[] ratios;

    private Builder() {}

    /**
     * Sets the box sizes relative to the image (e.g. {@code 0.2, 0.272} for TinySSD's first level).
     *
     * @param sizes at least one positive finite size
     * @return this builder
     * @throws IllegalArgumentException if empty or a size is not positive
     */
    public Builder setSizes(float... sizes) {
      this.sizes = checkPositive(sizes, "sizes");
      return this;
    }

    /**
     * Sets the aspect ratios (width / height), e.g. {@code 1, 2, 0.5}.
     *
     * @param ratios at least one positive finite ratio
     * @return this builder
     * @throws IllegalArgumentException if empty or a ratio is not positive
     */
    public Builder setRatios(float... ratios) {
      this.ratios = checkPositive(ratios, "ratios");
      return this;
    }

    /**
     * Builds the prior.
     *
     * @return a new immutable {@link MultiBoxPrior}
     * @throws IllegalArgumentException if sizes or ratios are missing
     */
    public MultiBoxPrior build() {
      return new MultiBoxPrior(this);
    }

    private static float[] checkPositive(float[] values, String name) {
      if (values == null || values.length == 0) {
        throw new IllegalArgumentException(name + " must not be empty");
      }
      for (float v : values) {
        if (!(v > 0f) || Float.isInfinite(v)) {
          throw new IllegalArgumentException(
              name + " must be finite and > 0, got " + Arrays.toString(values));
        }
      }
      return values.clone();
    }
  }
}
