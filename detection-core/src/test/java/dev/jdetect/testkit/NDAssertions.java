package dev.jdetect.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;

/** Assertions on arrays that name the worst element when they fail. */
public final class NDAssertions {

  private NDAssertions() {}

  /**
   * Asserts equal shapes and every element within {@code tolerance} (NaN never is).
   *
   * @param want the reference
   * @param got the value under test
   * @param tolerance the largest absolute difference allowed
   * @param what what is compared, for the message
   */
  public static void assertClose(NDArray want, NDArray got, float tolerance, String what) {
    assertEquals(want.getShape(), got.getShape(), what + " shape");
    float[] w = want.toFloatArray();
    float[] g = got.toFloatArray();
    float worst = 0;
    int at = -1;
    for (int i = 0; i < w.length; i++) {
      float d = Math.abs(w[i] - g[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    assertTrue(
        worst <= tolerance,
        what
            + ": max abs diff "
            + worst
            + " at flat index "
            + at
            + " (tolerance "
            + tolerance
            + ")");
  }

  /**
   * Asserts closeness relative to the reference's largest magnitude (at least 1): for sums of many
   * products, such as gradients, whose rounding grows with their size.
   *
   * @param want the reference
   * @param got the value under test
   * @param relative the tolerance per unit of {@code max(1, max|want|)}
   * @param what what is compared, for the message
   */
  public static void assertCloseScaled(NDArray want, NDArray got, float relative, String what) {
    float scale = Math.max(1f, want.abs().max().getFloat());
    assertClose(want, got, relative * scale, what);
  }
}
