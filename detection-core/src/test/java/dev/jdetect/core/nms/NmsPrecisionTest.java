package dev.jdetect.core.nms;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nms.Nms.Backend;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * NMS computes in the input's precision, as torchvision 0.14.1 (results checked with {@code
 * torchvision.ops.nms}): float64 scores that differ by 1e-12 are ranked, and a float64 IoU of
 * 0.5000000025 exceeds the threshold 0.5 (in float32 it rounds to 0.5 and does not). Both backends,
 * with few boxes (linear scan) and many (grid).
 */
@ExtendWith(NDManagerExtension.class)
class NmsPrecisionTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  /**
   * NMS of the given boxes followed by {@code extra} small far-away boxes with scores below 0.07;
   * returns which of the given boxes are kept, in order.
   */
  private long[] nms(double[] boxes, double[] scores, int extra, DataType type, Backend backend) {
    int n = scores.length;
    double[] b = new double[4 * (n + extra)];
    double[] s = new double[n + extra];
    System.arraycopy(boxes, 0, b, 0, boxes.length);
    System.arraycopy(scores, 0, s, 0, n);
    for (int i = 0; i < extra; i++) {
      double x = 100 + 20 * i;
      b[4 * (n + i)] = x;
      b[4 * (n + i) + 1] = 100;
      b[4 * (n + i) + 2] = x + 10;
      b[4 * (n + i) + 3] = 110;
      s[n + i] = 0.01 * (i % 7);
    }
    NDArray bx = manager.create(b, new Shape(n + extra, 4)).toType(type, false);
    NDArray sc = manager.create(s).toType(type, false);
    long[] kept = Nms.nms(bx, sc, 0.5, Integer.MAX_VALUE, backend).toLongArray();
    return Arrays.stream(kept).filter(k -> k < n).toArray();
  }

  @Test
  void float64ScoresAreRankedInFloat64() {
    double[] boxes = {0, 0, 10, 10, 0, 0, 10, 10};
    double[] scores = {0.5, 0.5 + 1e-12};
    for (Backend backend : new Backend[] {Backend.JAVA, Backend.DEVICE}) {
      for (int extra : new int[] {0, 80}) {
        String where = backend + " with " + extra + " extra boxes";
        assertArrayEquals(
            new long[] {1}, nms(boxes, scores, extra, DataType.FLOAT64, backend), where);
        // in float32 the scores tie and the first index wins
        assertArrayEquals(
            new long[] {0}, nms(boxes, scores, extra, DataType.FLOAT32, backend), where);
      }
    }
  }

  @Test
  void float64IouIsComparedInFloat64() {
    double[] boxes = {0, 0, 1, 1, 0, 0, 1, 0.5000000025};
    double[] scores = {0.9, 0.8};
    for (Backend backend : new Backend[] {Backend.JAVA, Backend.DEVICE}) {
      for (int extra : new int[] {0, 80}) {
        String where = backend + " with " + extra + " extra boxes";
        // float64: IoU 0.5000000025 > 0.5, box 1 is suppressed
        assertArrayEquals(
            new long[] {0}, nms(boxes, scores, extra, DataType.FLOAT64, backend), where);
        // float32: the IoU rounds to 0.5, which is not > 0.5, so box 1 is kept
        assertArrayEquals(
            new long[] {0, 1}, nms(boxes, scores, extra, DataType.FLOAT32, backend), where);
      }
    }
  }
}
