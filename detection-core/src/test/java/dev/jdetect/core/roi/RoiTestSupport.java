package dev.jdetect.core.roi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.Fixtures;

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

  /**
   * Checks that an RoI op sends torchvision's gradient (fixture {@code c<i>_grad}) to features that
   * are an op's output, like a backbone's feature map, for which DJL's {@code hasGradient()} says
   * {@code false}: the op must still take its differentiable path.
   *
   * @param manager the parent of the per-config scopes
   * @param fx the fixture with {@code features}, {@code num_configs} and per-config {@code rois},
   *     {@code weights}, {@code grad}
   * @param pool applies the op of config prefix {@code c<i>_} to (features, rois)
   */
  static void assertNonLeafGradient(NDManager manager, NDList fx, ConfiguredOp pool) {
    int configs = (int) Fixtures.get(fx, "num_configs").toLongArray()[0];
    for (int c = 0; c < configs; c++) {
      String p = "c" + c + "_";
      try (NDManager sub = manager.newSubManager()) {
        NDArray x = Fixtures.get(fx, "features").duplicate();
        x.attach(sub);
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray features = x.add(0f); // an op's output, like a backbone's feature map
          assertFalse(features.hasGradient(), "DJL's hasGradient() on a non-leaf");
          NDArray out = pool.apply(p, features, Fixtures.get(fx, p + "rois"));
          gc.backward(out.mul(Fixtures.get(fx, p + "weights")).sum());
        }
        assertClose(
            Fixtures.get(fx, p + "grad"), x.getGradient(), TOL, "config " + c + " non-leaf grad");
      }
    }
  }

  /** An RoI op configured by the fixture parameters of one config prefix. */
  @FunctionalInterface
  interface ConfiguredOp {
    NDArray apply(String prefix, NDArray features, NDArray rois);
  }
}
