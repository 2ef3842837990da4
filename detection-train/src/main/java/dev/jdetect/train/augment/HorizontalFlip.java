package dev.jdetect.train.augment;

import ai.djl.ndarray.NDArray;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.Random;

/**
 * Flips the image left-right with probability {@code p} (default 0.5) and moves the boxes with it:
 * {@code (x1, y1, x2, y2) -> (W - x2, y1, W - x1, y2)}.
 *
 * <p>Written here because DJL 0.35.1's random flip transforms do nothing on PyTorch.
 */
public final class HorizontalFlip implements DetectionTransform {

  private final float p;

  /** Creates a flip with probability 0.5. */
  public HorizontalFlip() {
    this(0.5f);
  }

  /**
   * Creates a flip.
   *
   * @param p the probability of flipping, in [0, 1]
   */
  public HorizontalFlip(float p) {
    BoxOps.checkProbability(p, "p");
    this.p = p;
  }

  /** {@inheritDoc} Draws one {@code nextFloat()}; flips if it is below {@code p}. */
  @Override
  public DetectionSample apply(DetectionSample sample, Random random) {
    if (random.nextFloat() >= p) {
      return sample;
    }
    return flip(sample);
  }

  /**
   * Flips a sample unconditionally.
   *
   * @param sample the sample
   * @return the flipped sample
   */
  public static DetectionSample flip(DetectionSample sample) {
    NDArray image = sample.getImage().flip(2);
    float w = sample.getWidth();
    float[] b = sample.getBoxes().toFloatArray();
    float[] out = new float[b.length];
    for (int i = 0; i < b.length; i += 4) {
      out[i] = w - b[i + 2];
      out[i + 1] = b[i + 1];
      out[i + 2] = w - b[i];
      out[i + 3] = b[i + 3];
    }
    return sample.with(image, BoxOps.create(sample.getManager(), out), null);
  }
}
