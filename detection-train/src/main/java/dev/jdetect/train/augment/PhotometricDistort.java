package dev.jdetect.train.augment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.Random;

/**
 * SSD's photometric distortion, as torchvision's {@code RandomPhotometricDistort}: each step is
 * applied with probability {@code p} (default 0.5), in this order: brightness (multiply by a factor
 * in {@code [0.875, 1.125]}), contrast (blend with the mean grey level, factor in {@code [0.5,
 * 1.5]}; applied either before saturation or after hue, chosen at random), saturation (blend with
 * the per-pixel grey level, factor in {@code [0.5, 1.5]}), hue (shift in HSV space by a fraction of
 * a turn in {@code [-0.05, 0.05]}), and a random permutation of the channels. Values are clamped to
 * {@code [0, 1]}; grey is {@code 0.2989 R + 0.587 G + 0.114 B}. Boxes are unchanged.
 *
 * <p>Implemented on the JVM (DJL 0.35.1's colour jitter throws on PyTorch). Random draws: seven
 * {@code nextFloat()} decide the steps (brightness, contrast-before, contrast, saturation, hue,
 * contrast-after, permutation), then each applied step draws its factor with {@code nextFloat()},
 * and the permutation is a Fisher-Yates shuffle with {@code nextInt}.
 */
public final class PhotometricDistort implements DetectionTransform {

  private final float[] brightness;
  private final float[] contrast;
  private final float[] saturation;
  private final float[] hue;
  private final float p;

  private PhotometricDistort(Builder b) {
    this.brightness = b.brightness.clone();
    this.contrast = b.contrast.clone();
    this.saturation = b.saturation.clone();
    this.hue = b.hue.clone();
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
    float[] r = new float[7];
    for (int i = 0; i < r.length; i++) {
      r[i] = random.nextFloat();
    }
    NDArray image = sample.getImage();
    Shape shape = image.getShape();
    if (shape.get(0) != 3) {
      throw new IllegalArgumentException("image must have 3 channels, got shape " + shape);
    }
    float[] px = image.toType(DataType.FLOAT32, false).toFloatArray();
    int plane = (int) (shape.get(1) * shape.get(2));
    boolean changed = false;
    if (r[0] < p) {
      adjustBrightness(px, uniform(random, brightness));
      changed = true;
    }
    boolean contrastBefore = r[1] < 0.5f;
    if (contrastBefore && r[2] < p) {
      adjustContrast(px, plane, uniform(random, contrast));
      changed = true;
    }
    if (r[3] < p) {
      adjustSaturation(px, plane, uniform(random, saturation));
      changed = true;
    }
    if (r[4] < p) {
      adjustHue(px, plane, uniform(random, hue));
      changed = true;
    }
    if (!contrastBefore && r[5] < p) {
      adjustContrast(px, plane, uniform(random, contrast));
      changed = true;
    }
    if (r[6] < p) {
      int[] perm = {0, 1, 2};
      for (int i = 2; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      float[] out = new float[px.length];
      for (int c = 0; c < 3; c++) {
        System.arraycopy(px, perm[c] * plane, out, c * plane, plane);
      }
      px = out;
      changed = true;
    }
    if (!changed) {
      return sample;
    }
    NDArray out = sample.getManager().create(px, shape);
    return sample.with(out, sample.getBoxes(), null);
  }

  private static float uniform(Random random, float[] range) {
    return range[0] + (range[1] - range[0]) * random.nextFloat();
  }

  private static float clamp01(float v) {
    return v < 0f ? 0f : (v > 1f ? 1f : v);
  }

  /**
   * Multiplies every value by {@code factor} and clamps to [0, 1].
   *
   * @param chw the RGB planes, modified in place
   * @param factor the factor, {@code >= 0}
   */
  public static void adjustBrightness(float[] chw, float factor) {
    for (int i = 0; i < chw.length; i++) {
      chw[i] = clamp01(factor * chw[i]);
    }
  }

  /**
   * Blends every value with the image's mean grey level: {@code f * x + (1 - f) * mean}, clamped.
   *
   * @param chw the RGB planes, modified in place
   * @param plane H * W
   * @param factor the factor, {@code >= 0}
   */
  public static void adjustContrast(float[] chw, int plane, float factor) {
    double sum = 0;
    for (int i = 0; i < plane; i++) {
      sum += grey(chw, plane, i);
    }
    float mean = (float) (sum / plane);
    for (int i = 0; i < chw.length; i++) {
      chw[i] = clamp01(factor * chw[i] + (1f - factor) * mean);
    }
  }

  /**
   * Blends every pixel with its own grey level: {@code f * x + (1 - f) * grey}, clamped.
   *
   * @param chw the RGB planes, modified in place
   * @param plane H * W
   * @param factor the factor, {@code >= 0} (0 gives a grey image)
   */
  public static void adjustSaturation(float[] chw, int plane, float factor) {
    for (int i = 0; i < plane; i++) {
      float g = grey(chw, plane, i);
      for (int c = 0; c < 3; c++) {
        int k = c * plane + i;
        chw[k] = clamp01(factor * chw[k] + (1f - factor) * g);
      }
    }
  }

  /**
   * Rotates the hue of every pixel by {@code shift} turns (HSV, as torchvision's {@code
   * adjust_hue}).
   *
   * @param chw the RGB planes in [0, 1], modified in place
   * @param plane H * W
   * @param shift the shift in [-0.5, 0.5]
   */
  public static void adjustHue(float[] chw, int plane, float shift) {
    for (int i = 0; i < plane; i++) {
      float r = chw[i];
      float g = chw[plane + i];
      float b = chw[2 * plane + i];
      float max = Math.max(r, Math.max(g, b));
      float min = Math.min(r, Math.min(g, b));
      float cr = max - min;
      if (cr == 0f) {
        continue; // grey pixels have no hue
      }
      float s = cr / max;
      float rc = (max - r) / cr;
      float gc = (max - g) / cr;
      float bc = (max - b) / cr;
      float h;
      if (max == r) {
        h = bc - gc;
      } else if (max == g) {
        h = 2f + rc - bc;
      } else {
        h = 4f + gc - rc;
      }
      h = (h / 6f + 1f) % 1f;
      h = (h + shift) % 1f;
      if (h < 0) {
        h += 1f;
      }
      float v = max;
      float h6 = h * 6f;
      int sector = (int) Math.floor(h6);
      float f = h6 - sector;
      sector = ((sector % 6) + 6) % 6;
      float pp = clamp01(v * (1f - s));
      float q = clamp01(v * (1f - s * f));
      float t = clamp01(v * (1f - s * (1f - f)));
      float nr;
      float ng;
      float nb;
      switch (sector) {
        case 0:
          nr = v;
          ng = t;
          nb = pp;
          break;
        case 1:
          nr = q;
          ng = v;
          nb = pp;
          break;
        case 2:
          nr = pp;
          ng = v;
          nb = t;
          break;
        case 3:
          nr = pp;
          ng = q;
          nb = v;
          break;
        case 4:
          nr = t;
          ng = pp;
          nb = v;
          break;
        default:
          nr = v;
          ng = pp;
          nb = q;
      }
      chw[i] = nr;
      chw[plane + i] = ng;
      chw[2 * plane + i] = nb;
    }
  }

  private static float grey(float[] chw, int plane, int i) {
    return 0.2989f * chw[i] + 0.587f * chw[plane + i] + 0.114f * chw[2 * plane + i];
  }

  /** Builder for {@link PhotometricDistort}. */
  public static final class Builder {
    private float[] brightness = {0.875f, 1.125f};
    private float[] contrast = {0.5f, 1.5f};
    private float[] saturation = {0.5f, 1.5f};
    private float[] hue = {-0.05f, 0.05f};
    private float p = 0.5f;

    private Builder() {}

    /**
     * Sets the brightness factor range. Default 0.875 to 1.125.
     *
     * @param min the smallest factor, {@code >= 0}
     * @param max the largest factor
     * @return this builder
     */
    public Builder optBrightness(float min, float max) {
      this.brightness = factorRange(min, max, "brightness");
      return this;
    }

    /**
     * Sets the contrast factor range. Default 0.5 to 1.5.
     *
     * @param min the smallest factor, {@code >= 0}
     * @param max the largest factor
     * @return this builder
     */
    public Builder optContrast(float min, float max) {
      this.contrast = factorRange(min, max, "contrast");
      return this;
    }

    /**
     * Sets the saturation factor range. Default 0.5 to 1.5.
     *
     * @param min the smallest factor, {@code >= 0}
     * @param max the largest factor
     * @return this builder
     */
    public Builder optSaturation(float min, float max) {
      this.saturation = factorRange(min, max, "saturation");
      return this;
    }

    /**
     * Sets the hue shift range in turns. Default -0.05 to 0.05.
     *
     * @param min the smallest shift, {@code >= -0.5}
     * @param max the largest shift, {@code <= 0.5}
     * @return this builder
     */
    public Builder optHue(float min, float max) {
      BoxOps.checkRange(min, max, "hue");
      if (min < -0.5f || max > 0.5f) {
        throw new IllegalArgumentException(
            "hue range must lie in [-0.5, 0.5], got [" + min + ", " + max + "]");
      }
      this.hue = new float[] {min, max};
      return this;
    }

    /**
     * Sets the probability of each step. Default 0.5.
     *
     * @param p the probability in [0, 1]
     * @return this builder
     */
    public Builder optProbability(float p) {
      BoxOps.checkProbability(p, "p");
      this.p = p;
      return this;
    }

    private static float[] factorRange(float min, float max, String name) {
      BoxOps.checkRange(min, max, name);
      if (min < 0) {
        throw new IllegalArgumentException(name + " min must be >= 0, got " + min);
      }
      return new float[] {min, max};
    }

    /**
     * Builds the transform.
     *
     * @return the transform
     */
    public PhotometricDistort build() {
      return new PhotometricDistort(this);
    }
  }
}
