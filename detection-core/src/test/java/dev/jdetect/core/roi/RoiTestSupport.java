package dev.jdetect.core.roi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Assertions shared by the RoI tests. */
final class RoiTestSupport {

  static final double TOL = 1e-5;

  private RoiTestSupport() {}

  static void assertClose(NDArray expected, NDArray actual, double tol, String what) {
    assertEquals(expected.getShape(), actual.getShape(), what + ": shape");
    assertEquals(DataType.FLOAT32, actual.getDataType(), what + ": dtype");
    float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
    float[] a = actual.toFloatArray();
    double worst = 0;
    int at = -1;
    for (int i = 0; i < e.length; i++) {
      double d = Math.abs((double) e[i] - a[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    assertTrue(
        worst <= tol,
        what
            + ": max abs diff "
            + worst
            + " at flat index "
            + at
            + (at >= 0 ? " (expected " + e[at] + ", got " + a[at] + ")" : ""));
  }

  static void assertLongs(long[] expected, NDArray actual, String what) {
    assertEquals(DataType.INT64, actual.getDataType(), what + ": dtype");
    assertArrayEquals(expected, actual.toLongArray(), what);
  }

  static void assertMessage(Runnable call, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    for (String part : parts) {
      assertTrue(
          e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
    }
  }
}
