package dev.jdetect.train.augment;

import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.Arrays;
import java.util.Random;

/**
 * Clips boxes to the image and drops those that are then smaller than {@code minSize} pixels in
 * width or height (torchvision's {@code SanitizeBoundingBoxes}); labels and flags of dropped boxes
 * go with them. Deterministic. Use it last in a pipeline with custom transforms that can push boxes
 * out of the image; the transforms of this package already keep their boxes valid.
 */
public final class SanitizeBoxes implements DetectionTransform {

  private final float minSize;

  /** Creates a sanitizer with {@code minSize = 1}. */
  public SanitizeBoxes() {
    this(1f);
  }

  /**
   * Creates a sanitizer.
   *
   * @param minSize the smallest kept width and height in pixels, {@code >= 0}
   */
  public SanitizeBoxes(float minSize) {
    if (!(minSize >= 0)) {
      throw new IllegalArgumentException("minSize must be >= 0, got " + minSize);
    }
    this.minSize = minSize;
  }

  /** {@inheritDoc} Uses no randomness. */
  @Override
  public DetectionSample apply(DetectionSample sample, Random random) {
    float w = sample.getWidth();
    float h = sample.getHeight();
    float[] b = sample.getBoxes().toFloatArray();
    int n = b.length / 4;
    int[] keep = new int[n];
    float[] out = new float[b.length];
    int k = 0;
    for (int i = 0; i < n; i++) {
      float x1 = Math.max(0f, Math.min(b[4 * i], w));
      float y1 = Math.max(0f, Math.min(b[4 * i + 1], h));
      float x2 = Math.max(0f, Math.min(b[4 * i + 2], w));
      float y2 = Math.max(0f, Math.min(b[4 * i + 3], h));
      if (x2 - x1 >= minSize && y2 - y1 >= minSize && x2 > x1 && y2 > y1) {
        out[4 * k] = x1;
        out[4 * k + 1] = y1;
        out[4 * k + 2] = x2;
        out[4 * k + 3] = y2;
        keep[k++] = i;
      }
    }
    return sample.with(
        sample.getImage(),
        BoxOps.create(sample.getManager(), Arrays.copyOf(out, 4 * k)),
        Arrays.copyOf(keep, k));
  }
}
