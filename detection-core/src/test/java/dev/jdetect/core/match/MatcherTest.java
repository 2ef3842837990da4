package dev.jdetect.core.match;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import org.junit.jupiter.api.Test;

class MatcherTest {

  private static final String FIXTURE = "/fixtures/match/matcher.npz";

  @Test
  void matchesTorchvisionOnAllFixtureCases() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList fixture = Fixtures.load(manager, FIXTURE);
      float[] params = Fixtures.get(fixture, "params").toFloatArray();
      long numCases = Fixtures.get(fixture, "num_cases").toLongArray()[0];
      int checked = 0;
      for (int c = 0; c < numCases; c++) {
        NDArray iou = Fixtures.get(fixture, "c" + c + "_iou");
        for (int p = 0; p < params.length / 2; p++) {
          for (int lq = 0; lq < 2; lq++) {
            Matcher matcher =
                Matcher.builder()
                    .optHighThreshold(params[2 * p])
                    .optLowThreshold(params[2 * p + 1])
                    .optAllowLowQualityMatches(lq == 1)
                    .build();
            long[] expected = Fixtures.get(fixture, "c" + c + "_p" + p + "_lq" + lq).toLongArray();
            NDArray actual = matcher.match(iou);
            assertEquals(DataType.INT64, actual.getDataType());
            assertArrayEquals(
                expected, actual.toLongArray(), "case " + c + " params " + p + " lq " + lq);
            checked++;
          }
        }
      }
      assertEquals(numCases * 6, checked);
    }
  }

  @Test
  void handComputedThresholdsAndLowQualityTies() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // GT0 peaks at 0.4 on preds 0 and 2 (a tie); GT1 peaks at 0.8 on pred 1.
      NDArray iou =
          manager.create(new float[][] {{0.4f, 0.1f, 0.4f, 0.0f}, {0.3f, 0.8f, 0.35f, 0.29f}});
      Matcher plain = Matcher.builder().build();
      assertArrayEquals(new long[] {-2, 1, -2, -1}, plain.match(iou).toLongArray());
      Matcher lowQuality = Matcher.builder().optAllowLowQualityMatches(true).build();
      assertArrayEquals(new long[] {0, 1, 0, -1}, lowQuality.match(iou).toLongArray());
      // exactly on the thresholds: 0.7 is a match, 0.3 is "between"
      NDArray exact = manager.create(new float[][] {{0.7f, 0.3f, 0.2999f}});
      assertArrayEquals(new long[] {0, -2, -1}, plain.match(exact).toLongArray());
    }
  }

  @Test
  void zeroGroundTruthIsAllBackground() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray iou = manager.zeros(new Shape(0, 5));
      for (boolean lq : new boolean[] {false, true}) {
        NDArray matches = Matcher.builder().optAllowLowQualityMatches(lq).build().match(iou);
        assertEquals(new Shape(5), matches.getShape());
        assertEquals(DataType.INT64, matches.getDataType());
        assertArrayEquals(new long[] {-1, -1, -1, -1, -1}, matches.toLongArray());
      }
    }
  }

  @Test
  void zeroPredictionsGiveEmptyResult() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray matches = Matcher.builder().build().match(manager.zeros(new Shape(3, 0)));
      assertEquals(new Shape(0), matches.getShape());
      assertEquals(DataType.INT64, matches.getDataType());
    }
  }

  @Test
  void resultBelongsToTheInputsManager() {
    try (NDManager manager = NDManager.newBaseManager();
        NDManager sub = manager.newSubManager()) {
      NDArray iou = sub.create(new float[][] {{0.9f, 0.1f}});
      NDArray matches = Matcher.builder().optAllowLowQualityMatches(true).build().match(iou);
      assertSame(sub, matches.getManager());
      assertArrayEquals(new long[] {0, -1}, matches.toLongArray());
    }
  }

  @Test
  void rejectsBadInput() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Matcher matcher = Matcher.builder().build();
      IllegalArgumentException rank =
          assertThrows(
              IllegalArgumentException.class, () -> matcher.match(manager.zeros(new Shape(4))));
      assertTrue(rank.getMessage().contains("iou") && rank.getMessage().contains("(4)"));
      IllegalArgumentException type =
          assertThrows(
              IllegalArgumentException.class,
              () -> matcher.match(manager.zeros(new Shape(2, 2), DataType.INT64)));
      assertTrue(type.getMessage().contains("iou"));
      IllegalArgumentException nan =
          assertThrows(
              IllegalArgumentException.class,
              () -> matcher.match(manager.create(new float[][] {{0.5f, Float.NaN}})));
      assertTrue(nan.getMessage().contains("NaN"));
      IllegalArgumentException order =
          assertThrows(
              IllegalArgumentException.class,
              () -> Matcher.builder().optHighThreshold(0.3f).optLowThreshold(0.5f).build());
      assertTrue(order.getMessage().contains("lowThreshold"));
      assertThrows(
          IllegalArgumentException.class,
          () -> Matcher.builder().optHighThreshold(Float.NaN).build());
    }
  }
}
