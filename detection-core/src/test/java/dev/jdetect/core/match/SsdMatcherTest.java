package dev.jdetect.core.match;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import org.junit.jupiter.api.Test;

class SsdMatcherTest {

  @Test
  void matchesTorchvisionOnAllFixtureCases() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList fixture = Fixtures.load(manager, "/fixtures/match/ssd_matcher.npz");
      float[] thresholds = Fixtures.get(fixture, "thresholds").toFloatArray();
      long numCases = Fixtures.get(fixture, "num_cases").toLongArray()[0];
      for (int c = 0; c < numCases; c++) {
        NDArray iou = Fixtures.get(fixture, "c" + c + "_iou");
        for (int t = 0; t < thresholds.length; t++) {
          SsdMatcher matcher = SsdMatcher.builder().optThreshold(thresholds[t]).build();
          long[] expected = Fixtures.get(fixture, "c" + c + "_t" + t).toLongArray();
          assertArrayEquals(
              expected, matcher.match(iou).toLongArray(), "case " + c + " threshold " + t);
        }
      }
    }
  }

  @Test
  void everyGroundTruthKeepsItsBestPrior() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // GT1's best prior (index 2, 0.2) is far below the threshold; prior 0 prefers GT0 (0.6).
      NDArray iou = manager.create(new float[][] {{0.6f, 0.1f, 0.0f}, {0.1f, 0.05f, 0.2f}});
      NDArray matches = SsdMatcher.builder().build().match(iou);
      assertEquals(DataType.INT64, matches.getDataType());
      assertArrayEquals(new long[] {0, -1, 1}, matches.toLongArray());
      // Both GTs want prior 0: the later GT wins, GT0 keeps nothing else.
      NDArray shared = manager.create(new float[][] {{0.3f, 0.1f}, {0.4f, 0.2f}});
      assertArrayEquals(
          new long[] {1, -1}, SsdMatcher.builder().build().match(shared).toLongArray());
    }
  }

  @Test
  void zeroGroundTruthIsAllBackground() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray matches = SsdMatcher.builder().build().match(manager.zeros(new Shape(0, 4)));
      assertArrayEquals(new long[] {-1, -1, -1, -1}, matches.toLongArray());
      NDArray empty = SsdMatcher.builder().build().match(manager.zeros(new Shape(2, 0)));
      assertEquals(new Shape(0), empty.getShape());
    }
  }

  @Test
  void rejectsBadInput() {
    try (NDManager manager = NDManager.newBaseManager()) {
      SsdMatcher matcher = SsdMatcher.builder().build();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> matcher.match(manager.zeros(new Shape(1, 2, 3))));
      assertTrue(e.getMessage().contains("iou") && e.getMessage().contains("(1, 2, 3)"));
      assertThrows(
          IllegalArgumentException.class,
          () -> SsdMatcher.builder().optThreshold(Float.POSITIVE_INFINITY).build());
    }
  }
}
