package dev.jdetect.train.augment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.Arrays;
import java.util.Random;

/**
 * SSD's random crop (torchvision's {@code RandomIoUCrop}).
 *
 * <p>Picks a minimum IoU from the options (default {@code 0.0, 0.1, 0.3, 0.5, 0.7, 0.9} and {@code
 * 1.0}, which means "no crop"). Then up to {@code trials} times: draws a window whose sides are
 * {@code scale} in {@code [minScale, maxScale]} of the image's, with aspect ratio {@code w / h} in
 * {@code [minAspectRatio, maxAspectRatio]}, at a random position; keeps only the boxes whose centre
 * lies strictly inside the window; accepts the window if at least one box survives and the best IoU
 * of a surviving box with the window reaches the minimum. On acceptance the image is cropped, the
 * kept boxes are shifted and clipped to the window, and the other boxes (and their labels/flags)
 * are dropped. If every trial fails, a new minimum IoU is picked (at most {@code 50} rounds; after
 * that the sample is returned unchanged, as it is for an image without boxes once "no crop" comes
 * up).
 *
 * <p>Random draws per round: {@code nextInt(options.length)}; per trial {@code nextFloat()} twice
 * for the scales, and, if the aspect ratio is acceptable, twice for the position.
 */
public final class IouCrop implements DetectionTransform {

  private static final int MAX_ROUNDS = 50;

  private final float[] options;
  private final float minScale;
  private final float maxScale;
  private final float minAspectRatio;
  private final float maxAspectRatio;
  private final int trials;

  private IouCrop(Builder b) {
    this.options = b.options.clone();
    this.minScale = b.minScale;
    this.maxScale = b.maxScale;
    this.minAspectRatio = b.minAspectRatio;
    this.maxAspectRatio = b.maxAspectRatio;
    this.trials = b.trials;
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
    int w = sample.getWidth();
    int h = sample.getHeight();
    float[] boxes = sample.getBoxes().toFloatArray();
    int n = boxes.length / 4;
    for (int round = 0; round < MAX_ROUNDS; round++) {
      float minIou = options[random.nextInt(options.length)];
      if (minIou >= 1f) {
        return sample;
      }
      for (int t = 0; t < trials; t++) {
        float rw = minScale + (maxScale - minScale) * random.nextFloat();
        float rh = minScale + (maxScale - minScale) * random.nextFloat();
        int newW = (int) (w * rw);
        int newH = (int) (h * rh);
        if (newH == 0) {
          continue;
        }
        float aspect = (float) newW / newH;
        if (!(minAspectRatio <= aspect && aspect <= maxAspectRatio)) {
          continue;
        }
        int left = (int) ((w - newW) * random.nextFloat());
        int top = (int) ((h - newH) * random.nextFloat());
        int right = left + newW;
        int bottom = top + newH;
        if (left == right || top == bottom) {
          continue;
        }
        int[] keep = centresInside(boxes, n, left, top, right, bottom);
        if (keep.length == 0) {
          continue;
        }
        float best = 0;
        for (int i : keep) {
          best = Math.max(best, iou(boxes, i, left, top, right, bottom));
        }
        if (best < minIou) {
          continue;
        }
        return crop(sample, left, top, newW, newH);
      }
    }
    return sample;
  }

  /**
   * Crops a sample to the window {@code [left, left + width) x [top, top + height)}: keeps the
   * boxes whose centre is strictly inside the window, shifts them by {@code (-left, -top)} and
   * clips them to {@code [0, width] x [0, height]}.
   *
   * @param sample the sample
   * @param left the window's left edge, {@code >= 0}
   * @param top the window's top edge, {@code >= 0}
   * @param width the window width, {@code >= 1}, {@code left + width <= W}
   * @param height the window height, {@code >= 1}, {@code top + height <= H}
   * @return the cropped sample
   */
  public static DetectionSample crop(
      DetectionSample sample, int left, int top, int width, int height) {
    int w = sample.getWidth();
    int h = sample.getHeight();
    if (left < 0 || top < 0 || width < 1 || height < 1 || left + width > w || top + height > h) {
      throw new IllegalArgumentException(
          "crop window left="
              + left
              + ", top="
              + top
              + ", width="
              + width
              + ", height="
              + height
              + " does not fit the image "
              + w
              + "x"
              + h);
    }
    float[] boxes = sample.getBoxes().toFloatArray();
    int[] keep = centresInside(boxes, boxes.length / 4, left, top, left + width, top + height);
    float[] out = new float[keep.length * 4];
    for (int k = 0; k < keep.length; k++) {
      int i = keep[k];
      out[4 * k] = clamp(boxes[4 * i] - left, width);
      out[4 * k + 1] = clamp(boxes[4 * i + 1] - top, height);
      out[4 * k + 2] = clamp(boxes[4 * i + 2] - left, width);
      out[4 * k + 3] = clamp(boxes[4 * i + 3] - top, height);
    }
    NDArray image =
        sample
            .getImage()
            .get(new NDIndex(":, {}:{}, {}:{}", top, top + height, left, left + width));
    return sample.with(image, BoxOps.create(sample.getManager(), out), keep);
  }

  private static float clamp(float v, float max) {
    return Math.max(0f, Math.min(v, max));
  }

  private static int[] centresInside(
      float[] b, int n, float left, float top, float right, float bottom) {
    int[] keep = new int[n];
    int k = 0;
    for (int i = 0; i < n; i++) {
      float cx = 0.5f * (b[4 * i] + b[4 * i + 2]);
      float cy = 0.5f * (b[4 * i + 1] + b[4 * i + 3]);
      if (left < cx && cx < right && top < cy && cy < bottom) {
        keep[k++] = i;
      }
    }
    return Arrays.copyOf(keep, k);
  }

  private static float iou(float[] b, int i, float l, float t, float r, float bt) {
    float x1 = b[4 * i];
    float y1 = b[4 * i + 1];
    float x2 = b[4 * i + 2];
    float y2 = b[4 * i + 3];
    float iw = Math.max(0f, Math.min(x2, r) - Math.max(x1, l));
    float ih = Math.max(0f, Math.min(y2, bt) - Math.max(y1, t));
    float inter = iw * ih;
    float union = (x2 - x1) * (y2 - y1) + (r - l) * (bt - t) - inter;
    return union > 0 ? inter / union : 0f;
  }

  /** Builder for {@link IouCrop}. */
  public static final class Builder {
    private float[] options = {0.0f, 0.1f, 0.3f, 0.5f, 0.7f, 0.9f, 1.0f};
    private float minScale = 0.3f;
    private float maxScale = 1.0f;
    private float minAspectRatio = 0.5f;
    private float maxAspectRatio = 2.0f;
    private int trials = 40;

    private Builder() {}

    /**
     * Sets the minimum-IoU options; a value {@code >= 1} means "no crop". Default {@code 0.0, 0.1,
     * 0.3, 0.5, 0.7, 0.9, 1.0}.
     *
     * @param options the options, each in [0, 1]
     * @return this builder
     */
    public Builder optOptions(float... options) {
      if (options.length == 0) {
        throw new IllegalArgumentException("options must not be empty");
      }
      for (float o : options) {
        if (!(o >= 0 && o <= 1)) {
          throw new IllegalArgumentException("every option must be in [0, 1], got " + o);
        }
      }
      this.options = options.clone();
      return this;
    }

    /**
     * Sets the range of the window side relative to the image side. Default 0.3 to 1.
     *
     * @param min the smallest scale, in (0, 1]
     * @param max the largest scale, in [min, 1]
     * @return this builder
     */
    public Builder optScaleRange(float min, float max) {
      BoxOps.checkRange(min, max, "scale range");
      if (!(min > 0) || max > 1) {
        throw new IllegalArgumentException(
            "scale range must satisfy 0 < min <= max <= 1, got [" + min + ", " + max + "]");
      }
      this.minScale = min;
      this.maxScale = max;
      return this;
    }

    /**
     * Sets the range of the window aspect ratio {@code w / h}. Default 0.5 to 2.
     *
     * @param min the smallest ratio, {@code > 0}
     * @param max the largest ratio, {@code >= min}
     * @return this builder
     */
    public Builder optAspectRatioRange(float min, float max) {
      BoxOps.checkRange(min, max, "aspect ratio range");
      if (!(min > 0)) {
        throw new IllegalArgumentException("aspect ratio min must be > 0, got " + min);
      }
      this.minAspectRatio = min;
      this.maxAspectRatio = max;
      return this;
    }

    /**
     * Sets the number of windows tried per minimum IoU. Default 40.
     *
     * @param trials the count, {@code >= 1}
     * @return this builder
     */
    public Builder optTrials(int trials) {
      if (trials < 1) {
        throw new IllegalArgumentException("trials must be >= 1, got " + trials);
      }
      this.trials = trials;
      return this;
    }

    /**
     * Builds the transform.
     *
     * @return the transform
     */
    public IouCrop build() {
      return new IouCrop(this);
    }
  }
}
