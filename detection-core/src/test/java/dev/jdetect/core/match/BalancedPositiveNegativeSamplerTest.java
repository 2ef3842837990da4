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
  private static int[] checkMasks(long[] labels, NDArray[] masks) {
    assertEquals(2, masks.length);
    assertEquals(DataType.BOOLEAN, masks[0].getDataType());
    assertEquals(DataType.BOOLEAN, masks[1].getDataType());
    assertEquals(new Shape(labels.length), masks[0].getShape());
    assertEquals(new Shape(labels.length), masks[1].getShape());
    boolean[] pos = masks[0].toBooleanArray();
    boolean[] neg = masks[1].toBooleanArray();
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
              .setBatchSizePerImage(256)
              .setPositiveFraction(0.25)
              .setSeed(7)
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
              .setBatchSizePerImage(256)
              .setPositiveFraction(0.5)
              .setSeed(3)
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
          BalancedPositiveNegativeSampler.builder().setSeed(1).build();
      assertArrayEquals(
          new int[] {0, 256}, checkMasks(values, sampler.sample(manager.create(values))));
      NDArray[] empty = sampler.sample(manager.create(new long[0]));
      assertEquals(new Shape(0), empty[0].getShape());
      assertEquals(new Shape(0), empty[1].getShape());
    }
  }

  @Test
  void sameSeedSameDrawDifferentSeedDifferentDraw() {
    try (NDManager manager = NDManager.newBaseManager()) {
      long[] values = labels(200, 2000, 100, 5);
      NDArray array = manager.create(values);
      BalancedPositiveNegativeSampler a =
          BalancedPositiveNegativeSampler.builder().setSeed(42).build();
      BalancedPositiveNegativeSampler b =
          BalancedPositiveNegativeSampler.builder().setRandom(new Random(42)).build();
      BalancedPositiveNegativeSampler c =
          BalancedPositiveNegativeSampler.builder().setSeed(43).build();
      for (int round = 0; round < 3; round++) {
        NDArray[] ma = a.sample(array);
        NDArray[] mb = b.sample(array);
        NDArray[] mc = c.sample(array);
        assertArrayEquals(ma[0].toBooleanArray(), mb[0].toBooleanArray());
        assertArrayEquals(ma[1].toBooleanArray(), mb[1].toBooleanArray());
        assertFalse(Arrays.equals(ma[1].toBooleanArray(), mc[1].toBooleanArray()));
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
              .setBatchSizePerImage(8)
              .setPositiveFraction(0.5)
              .setSeed(11)
              .build();
      boolean[] seen = new boolean[values.length];
      for (int round = 0; round < 200; round++) {
        NDArray[] masks = sampler.sample(array);
        assertArrayEquals(new int[] {4, 4}, checkMasks(values, masks));
        boolean[] pos = masks[0].toBooleanArray();
        boolean[] neg = masks[1].toBooleanArray();
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
      NDArray[] masks =
          BalancedPositiveNegativeSampler.builder()
              .setBatchSizePerImage(2)
              .setTakeAll(true)
              .build()
              .sample(manager.create(values));
      assertArrayEquals(
          new boolean[] {false, true, false, true, false, false, false, true},
          masks[0].toBooleanArray());
      assertArrayEquals(
          new boolean[] {true, false, false, false, true, true, false, false},
          masks[1].toBooleanArray());
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
      NDArray[] masks =
          BalancedPositiveNegativeSampler.builder()
              .setBatchSizePerImage(10)
              .setPositiveFraction(0.7) // int(10 * 0.7) == 7 in Python
              .setSeed(0)
              .build()
              .sample(manager.create(values));
      boolean[] pos = masks[0].toBooleanArray();
      boolean[] neg = masks[1].toBooleanArray();
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
              () -> BalancedPositiveNegativeSampler.builder().setBatchSizePerImage(0).build());
      assertTrue(batch.getMessage().contains("batchSizePerImage"));
      IllegalArgumentException fraction =
          assertThrows(
              IllegalArgumentException.class,
              () -> BalancedPositiveNegativeSampler.builder().setPositiveFraction(1.5).build());
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
                .setBatchSizePerImage(64)
                .setPositiveFraction(0.25)
                .build();
        Engine.getInstance().setRandomSeed(engineSeeds[k]);
        NDArray[] masks = s.sample(l);
        checkMasks(values, masks);
        draws[k] = masks[1].toBooleanArray();
      }
      assertArrayEquals(draws[0], draws[1]);
      assertFalse(Arrays.equals(draws[0], draws[2]));
    }
  }
}
