package dev.jdetect.train.augment;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.util.NDImageUtils;
import ai.djl.ndarray.NDArray;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.Random;

/**
 * Resizes the image to a fixed {@code width x height} and scales the boxes by {@code (width / W,
 * height / H)}, computed in float32. Deterministic.
 *
 * <p>The pixels go through DJL's {@code NDImageUtils.resize} with bilinear interpolation, which on
 * the PyTorch engine is {@code interpolate(mode="bilinear", align_corners=False, antialias=True)}:
 * the same as torchvision's {@code F.resize(..., antialias=True)} (the default from torchvision
 * 0.17 on, and close to PIL). Antialiasing only differs from plain bilinear when shrinking.
 */
public final class Resize implements DetectionTransform {

  private final int width;
  private final int height;

  /**
   * Creates a resize.
   *
   * @param width the output width, {@code >= 1}
   * @param height the output height, {@code >= 1}
   */
  public Resize(int width, int height) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "width and height must be >= 1, got " + width + "x" + height);
    }
    this.width = width;
    this.height = height;
  }

  /** {@inheritDoc} Uses no randomness. */
  @Override
  public DetectionSample apply(DetectionSample sample, Random random) {
    int w = sample.getWidth();
    int h = sample.getHeight();
    if (w == width && h == height) {
      return sample;
    }
    NDArray hwc = sample.getImage().transpose(1, 2, 0);
    NDArray resized =
        NDImageUtils.resize(hwc, width, height, Image.Interpolation.BILINEAR).transpose(2, 0, 1);
    float sx = (float) width / (float) w;
    float sy = (float) height / (float) h;
    float[] b = sample.getBoxes().toFloatArray();
    for (int i = 0; i < b.length; i += 4) {
      b[i] *= sx;
      b[i + 1] *= sy;
      b[i + 2] *= sx;
      b[i + 3] *= sy;
    }
    return sample.with(resized, BoxOps.create(sample.getManager(), b), null);
  }
}
