package dev.jdetect.core.match;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BalancedPositiveNegativeSamplerTest {

  /** Labels with the given counts of positives (1..3), negatives (0) and ignored (-1), shuffled. */
  private static long[] labels(int positives, int negatives, int ignored, long seed) {
    long[] values = new long[positives + negatives + ignored];
    Random random = new Random(seed);
    for (int i = 0; i < positives; i++) {
      values[i] = 1 + random.nextInt(3);
    }
    for (int i = positives + negatives; i < values.length; i++) {
      values[i] = -1;
    }
    for (int i = values.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      long tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  private static int count(boolean[] mask) {
    int n = 0;
    for (boolean b : mask) {
      n += b ? 1 : 0;
    }
    return n;
  }

  /** Checks the masks against the labels and returns {numPositive, numNegative}. */
  private static int[] checkMasks(long[] labels, SampleMasks masks) {
    assertEquals(DataType.BOOLEAN, masks.positive().getDataType());
    assertEquals(DataType.BOOLEAN, masks.negative().getDataType());
    assertEquals(new Shape(labels.length), masks.positive().getShape());
    assertEquals(new Shape(labels.length), masks.negative().getShape());
    boolean[] pos = masks.positive().toBooleanArray();
    boolean[] neg = masks.negative().toBooleanArray();
    for (int i = 0; i < labels.length; i++) {
      if (pos[i]) {
        assertTrue(labels[i] >= 1, "positive mask picked label " + labels[i] + " at " + i);
      }
      if (neg[i]) {
        assertEquals(0, labels[i], "negative mask picked label " + labels[i] + " at " + i);
      }
    }
    return new int[] {count(pos), count(neg)};
  }

  @Test
  void drawsTheQuotaAndNeverPicksIgnored() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = labels(100, 1000, 50, 1);
      BalancedPositiveNegativeSampler sampler =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(256)
              .optPositiveFraction(0.25)
              .optSeed(7)
              .build();
      int[] counts = checkMasks(values, sampler.sample(manager.create(values)));
      assertArrayEquals(new int[] {64, 192}, counts);
    }
  }

  @Test
  void fillsWithNegativesWhenPositivesAreShort() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = labels(10, 500, 30, 2);
      BalancedPositiveNegativeSampler sampler =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(256)
              .optPositiveFraction(0.5)
              .optSeed(3)
              .build();
      assertArrayEquals(
          new int[] {10, 246}, checkMasks(values, sampler.sample(manager.create(values))));
      // too few of both: everything usable is taken, ignored still excluded
      long[] small = labels(5, 20, 40, 3);
      assertArrayEquals(
          new int[] {5, 20}, checkMasks(small, sampler.sample(manager.create(small))));
    }
  }

  @Test
  void zeroGroundTruthGivesOnlyNegatives() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = labels(0, 300, 0, 4);
      BalancedPositiveNegativeSampler sampler =
          BalancedPositiveNegativeSampler.builder().optSeed(1).build();
      assertArrayEquals(
          new int[] {0, 256}, checkMasks(values, sampler.sample(manager.create(values))));
      SampleMasks empty = sampler.sample(manager.create(new long[0]));
      assertEquals(new Shape(0), empty.positive().getShape());
      assertEquals(new Shape(0), empty.negative().getShape());
    }
  }

  @Test
  void sameSeedSameDrawDifferentSeedDifferentDraw() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = labels(200, 2000, 100, 5);
      NDArray array = manager.create(values);
      BalancedPositiveNegativeSampler a =
          BalancedPositiveNegativeSampler.builder().optSeed(42).build();
      BalancedPositiveNegativeSampler b =
          BalancedPositiveNegativeSampler.builder().optRandom(new Random(42)).build();
      BalancedPositiveNegativeSampler c =
          BalancedPositiveNegativeSampler.builder().optSeed(43).build();
      for (int round = 0; round < 3; round++) {
        SampleMasks ma = a.sample(array);
        SampleMasks mb = b.sample(array);
        SampleMasks mc = c.sample(array);
        assertArrayEquals(ma.positive().toBooleanArray(), mb.positive().toBooleanArray());
        assertArrayEquals(ma.negative().toBooleanArray(), mb.negative().toBooleanArray());
        assertFalse(Arrays.equals(ma.negative().toBooleanArray(), mc.negative().toBooleanArray()));
        assertArrayEquals(new int[] {128, 128}, checkMasks(values, ma));
      }
    }
  }

  @Test
  void everyCandidateCanBeDrawn() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = labels(20, 40, 10, 6);
      NDArray array = manager.create(values);
      BalancedPositiveNegativeSampler sampler =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(8)
              .optPositiveFraction(0.5)
              .optSeed(11)
              .build();
      boolean[] seen = new boolean[values.length];
      for (int round = 0; round < 200; round++) {
        SampleMasks masks = sampler.sample(array);
        assertArrayEquals(new int[] {4, 4}, checkMasks(values, masks));
        boolean[] pos = masks.positive().toBooleanArray();
        boolean[] neg = masks.negative().toBooleanArray();
        for (int i = 0; i < seen.length; i++) {
          seen[i] |= pos[i] || neg[i];
        }
      }
      for (int i = 0; i < values.length; i++) {
        assertEquals(values[i] >= 0, seen[i], "index " + i + " label " + values[i]);
      }
    }
  }

  @Test
  void takeAllKeepsEveryPositiveAndNegative() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = {0, 2, -1, 1, 0, 0, -1, 3};
      SampleMasks masks =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(2)
              .optTakeAll(true)
              .build()
              .sample(manager.create(values));
      assertArrayEquals(
          new boolean[] {false, true, false, true, false, false, false, true},
          masks.positive().toBooleanArray());
      assertArrayEquals(
          new boolean[] {true, false, false, false, true, true, false, false},
          masks.negative().toBooleanArray());
    }
  }

  @Test
  void acceptsFloatLabelsAndRoundsTheQuotaLikePython() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // torchvision's RPN hands float32 labels (1, 0, -1) to the sampler.
      float[] values = new float[40];
      for (int i = 0; i < values.length; i++) {
        values[i] = i < 15 ? 1f : (i < 35 ? 0f : -1f);
      }
      SampleMasks masks =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(10)
              .optPositiveFraction(0.7) // int(10 * 0.7) == 7 in Python
              .optSeed(0)
              .build()
              .sample(manager.create(values));
      boolean[] pos = masks.positive().toBooleanArray();
      boolean[] neg = masks.negative().toBooleanArray();
      assertEquals(7, count(pos));
      assertEquals(3, count(neg));
      for (int i = 0; i < values.length; i++) {
        assertTrue(!pos[i] || values[i] == 1f);
        assertTrue(!neg[i] || values[i] == 0f);
      }
    }
  }

  @Test
  void rejectsBadInput() {
    try (NDManager manager = NDManager.newBaseManager()) {
      BalancedPositiveNegativeSampler sampler = BalancedPositiveNegativeSampler.builder().build();
      IllegalArgumentException shape =
          assertThrows(
              IllegalArgumentException.class,
              () -> sampler.sample(manager.zeros(new Shape(2, 3), DataType.INT64)));
      assertTrue(shape.getMessage().contains("matchedLabels"));
      assertTrue(shape.getMessage().contains("(2, 3)"));
      assertThrows(
          IllegalArgumentException.class,
          () -> sampler.sample(manager.create(new float[] {1f, Float.NaN})));
      IllegalArgumentException batch =
          assertThrows(
              IllegalArgumentException.class,
              () -> BalancedPositiveNegativeSampler.builder().optBatchSizePerImage(0).build());
      assertTrue(batch.getMessage().contains("batchSizePerImage"));
      IllegalArgumentException fraction =
          assertThrows(
              IllegalArgumentException.class,
              () -> BalancedPositiveNegativeSampler.builder().optPositiveFraction(1.5).build());
      assertTrue(fraction.getMessage().contains("positiveFraction"));
    }
  }

  @Test
  void unseededSamplerFollowsTheEngineSeed() {
    long[] values = labels(50, 400, 20, 9);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray l = m.create(values);
      boolean[][] draws = new boolean[3][];
      int[] engineSeeds = {5, 5, 6};
      for (int k = 0; k < 3; k++) {
        // a new sampler each time, as a freshly built model has
        BalancedPositiveNegativeSampler s =
            BalancedPositiveNegativeSampler.builder()
                .optBatchSizePerImage(64)
                .optPositiveFraction(0.25)
                .build();
        Engine.getInstance().setRandomSeed(engineSeeds[k]);
        SampleMasks masks = s.sample(l);
        checkMasks(values, masks);
        draws[k] = masks.negative().toBooleanArray();
      }
      assertArrayEquals(draws[0], draws[1]);
      assertFalse(Arrays.equals(draws[0], draws[2]));
    }
  }
}
