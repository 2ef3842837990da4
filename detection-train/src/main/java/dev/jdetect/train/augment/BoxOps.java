package dev.jdetect.train.augment;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Small helpers shared by the transforms. Package-private. */
final class BoxOps {

  private BoxOps() {}

  static NDArray create(NDManager m, float[] flat) {
    return m.create(flat, new Shape(flat.length / 4, 4));
  }

  static float[] toFloat(double[] rgb) {
    float[] out = new float[rgb.length];
    for (int i = 0; i < rgb.length; i++) {
      out[i] = (float) rgb[i];
    }
    return out;
  }

  static void checkProbability(float p, String name) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException(name + " must be in [0, 1], got " + p);
    }
  }

  static void checkRange(float lo, float hi, String name) {
    if (!(lo <= hi) || !Float.isFinite(lo) || !Float.isFinite(hi)) {
      throw new IllegalArgumentException(
          name + " must be a finite range with min <= max, got [" + lo + ", " + hi + "]");
    }
  }
}
