package dev.jdetect.train.augment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.Objects;
import java.util.Random;

/**
 * SSD's "expand" / torchvision's {@code RandomZoomOut}: with probability {@code p}, places the
 * image on a larger canvas filled with the mean colour and shifts the boxes by the placement
 * offset. Objects become smaller, which trains the detector on small objects.
 *
 * <p>Random draws, in order: {@code nextFloat() < p} decides; {@code r = min + nextFloat() * (max -
 * min)}; canvas {@code (int) (W * r) x (int) (H * r)}; {@code left = (int) ((canvasW - W) *
 * nextFloat())}, {@code top = (int) ((canvasH - H) * nextFloat())}.
 */
public final class ZoomOut implements DetectionTransform {

  private final float[] fill;
  private final float minSide;
  private final float maxSide;
  private final float p;

  private ZoomOut(Builder b) {
    this.fill = b.fill.clone();
    this.minSide = b.minSide;
    this.maxSide = b.maxSide;
    this.p = b.p;
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@inheritDoc} */
  @Override
  public DetectionSample apply(DetectionSample sample, Random random) {
    if (random.nextFloat() >= p) {
      return sample;
    }
    float r = minSide + random.nextFloat() * (maxSide - minSide);
    int w = sample.getWidth();
    int h = sample.getHeight();
    int cw = (int) (w * r);
    int ch = (int) (h * r);
    int left = (int) ((cw - w) * random.nextFloat());
    int top = (int) ((ch - h) * random.nextFloat());
    return expand(sample, left, top, cw, ch);
  }

  /**
   * Places the image at {@code (left, top)} on a {@code canvasWidth x canvasHeight} canvas filled
   * with this transform's fill colour; boxes move by {@code (left, top)}.
   *
   * @param sample the sample
   * @param left the x offset, {@code >= 0}
   * @param top the y offset, {@code >= 0}
   * @param canvasWidth the canvas width, {@code >= left + W}
   * @param canvasHeight the canvas height, {@code >= top + H}
   * @return the expanded sample
   */
  public DetectionSample expand(
      DetectionSample sample, int left, int top, int canvasWidth, int canvasHeight) {
    int w = sample.getWidth();
    int h = sample.getHeight();
    if (left < 0 || top < 0 || canvasWidth < left + w || canvasHeight < top + h) {
      throw new IllegalArgumentException(
          "image "
              + w
              + "x"
              + h
              + " at left="
              + left
              + ", top="
              + top
              + " does not fit a canvas of "
              + canvasWidth
              + "x"
              + canvasHeight);
    }
    NDManager m = sample.getManager();
    int c = (int) sample.getImage().getShape().get(0);
    if (c != fill.length) {
      throw new IllegalArgumentException(
          "fill has " + fill.length + " values but the image has " + c + " channels");
    }
    NDArray canvas =
        m.create(fill, new Shape(c, 1, 1)).repeat(1, canvasHeight).repeat(2, canvasWidth);
    canvas.set(new NDIndex(":, {}:{}, {}:{}", top, top + h, left, left + w), sample.getImage());
    float[] b = sample.getBoxes().toFloatArray();
    for (int i = 0; i < b.length; i += 4) {
      b[i] += left;
      b[i + 1] += top;
      b[i + 2] += left;
      b[i + 3] += top;
    }
    return sample.with(canvas, BoxOps.create(m, b), null);
  }

  /** Builder for {@link ZoomOut}. */
  public static final class Builder {
    private float[] fill = {0.485f, 0.456f, 0.406f};
    private float minSide = 1f;
    private float maxSide = 4f;
    private float p = 0.5f;

    private Builder() {}

    /**
     * Sets the canvas colour, one value per channel in [0, 1]. Default the ImageNet mean {@code
     * (0.485, 0.456, 0.406)} (SSD's mean fill).
     *
     * @param fill the colour
     * @return this builder
     */
    public Builder optFill(float... fill) {
      Objects.requireNonNull(fill, "fill");
      if (fill.length == 0) {
        throw new IllegalArgumentException("fill must have one value per channel");
      }
      this.fill = fill.clone();
      return this;
    }

    /**
     * Sets the range of the canvas side relative to the image side. Default 1 to 4.
     *
     * @param min the smallest ratio, {@code >= 1}
     * @param max the largest ratio, {@code >= min}
     * @return this builder
     */
    public Builder optSideRange(float min, float max) {
      BoxOps.checkRange(min, max, "side range");
      if (min < 1) {
        throw new IllegalArgumentException("side range min must be >= 1, got " + min);
      }
      this.minSide = min;
      this.maxSide = max;
      return this;
    }

    /**
     * Sets the probability of zooming out. Default 0.5.
     *
     * @param p the probability in [0, 1]
     * @return this builder
     */
    public Builder optProbability(float p) {
      BoxOps.checkProbability(p, "p");
      this.p = p;
      return this;
    }

    /**
     * Builds the transform.
     *
     * @return the transform
     */
    public ZoomOut build() {
      return new ZoomOut(this);
    }
  }
}
