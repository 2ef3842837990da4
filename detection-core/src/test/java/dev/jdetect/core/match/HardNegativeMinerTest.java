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
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class HardNegativeMinerTest {

  private static final String FIXTURE = "/fixtures/match/hard_negative.npz";

  @Test
  void equalsTorchvisionWithoutPositivesWhenMinimumIsZero() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList fixture = Fixtures.load(manager, FIXTURE);
      NDArray loss = Fixtures.get(fixture, "loss");
      NDArray positive = Fixtures.get(fixture, "labels").gt(0);
      boolean[] positives = positive.toBooleanArray();
      String[] names = {"r3", "r2_5"};
      float[] ratios = {3f, 2.5f};
      for (int r = 0; r < names.length; r++) {
        HardNegativeMiner miner =
            HardNegativeMiner.builder().optNegPosRatio(ratios[r]).optMinNegatives(0).build();
        NDArray selected = miner.select(loss, positive);
        assertEquals(DataType.BOOLEAN, selected.getDataType());
        assertEquals(loss.getShape(), selected.getShape());
        long[] torchvision = Fixtures.get(fixture, "background_" + names[r]).toLongArray();
        boolean[] expected = new boolean[torchvision.length];
        for (int i = 0; i < expected.length; i++) {
          // torchvision's mask can cover positives when negatives run out; ours never does
          expected[i] = torchvision[i] != 0 && !positives[i];
        }
        assertArrayEquals(expected, selected.toBooleanArray(), "ratio " + names[r]);
      }
    }
  }

  @Test
  void defaultMinimumGivesImagesWithoutPositivesTheirHardestNegatives() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList fixture = Fixtures.load(manager, FIXTURE);
      NDArray loss = Fixtures.get(fixture, "loss");
      NDArray labels = Fixtures.get(fixture, "labels");
      HardNegativeMiner miner = HardNegativeMiner.builder().build();
      assertEquals(3, miner.getMinNegatives());
      boolean[] selected = miner.select(loss, labels.gt(0)).toBooleanArray();
      long[] torchvision = Fixtures.get(fixture, "background_r3").toLongArray();
      long[] labelValues = labels.toLongArray();
      float[] lossValues = loss.toFloatArray();
      int anchors = (int) loss.getShape().get(1);
      for (int img = 0; img < loss.getShape().get(0); img++) {
        int from = img * anchors;
        long numPos = Arrays.stream(labelValues, from, from + anchors).filter(v -> v > 0).count();
        if (numPos > 0) {
          for (int i = from; i < from + anchors; i++) {
            assertEquals(torchvision[i] != 0 && labelValues[i] <= 0, selected[i], "index " + i);
          }
        } else {
          // image 1 has no positives: exactly the three largest losses
          float[] row = Arrays.copyOfRange(lossValues, from, from + anchors);
          float[] sorted = row.clone();
          Arrays.sort(sorted);
          float third = sorted[anchors - 3];
          int kept = 0;
          for (int i = 0; i < anchors; i++) {
            assertEquals(row[i] >= third, selected[from + i], "image " + img + " anchor " + i);
            kept += selected[from + i] ? 1 : 0;
          }
          assertEquals(3, kept);
        }
      }
    }
  }

  @Test
  void handComputedSelection() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray loss =
          manager.create(
              new float[][] {
                {0.1f, 5f, 0.4f, 0.3f, 0.9f, 0.2f, 0.8f, 0.05f},
                {0.5f, 0.6f, 0.7f, 0.1f, 0.2f, 0.3f, 0.4f, 0.0f}
              });
      // image 0: one positive (anchor 1, the largest loss, must be skipped); image 1: none
      NDArray positive =
          manager.create(
              new boolean[][] {
                {false, true, false, false, false, false, false, false},
                {false, false, false, false, false, false, false, false}
              });
      NDArray torchvisionLike =
          HardNegativeMiner.builder().optMinNegatives(0).build().select(loss, positive);
      assertArrayEquals(
          new boolean[] {
            false, false, true, false, true, false, true, false,
            false, false, false, false, false, false, false, false
          },
          torchvisionLike.toBooleanArray());
      NDArray withMinimum =
          HardNegativeMiner.builder()
              .optNegPosRatio(2f)
              .optMinNegatives(3)
              .build()
              .select(loss, positive.toType(DataType.INT32, false));
      assertArrayEquals(
          new boolean[] {
            false, false, true, false, true, false, true, false,
            true, true, true, false, false, false, false, false
          },
          withMinimum.toBooleanArray());
      // a fractional quota rounds up: 1.5 * 1 positive keeps 2 negatives
      NDArray fractional =
          HardNegativeMiner.builder()
              .optNegPosRatio(1.5f)
              .optMinNegatives(0)
              .build()
              .select(loss, positive);
      assertArrayEquals(
          new boolean[] {false, false, false, false, true, false, true, false},
          Arrays.copyOf(fractional.toBooleanArray(), 8));
    }
  }

  @Test
  void positivesNeverSelectedEvenWhenNegativesRunOut() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray loss = manager.create(new float[][] {{3f, 2f, 1f, 4f}});
      NDArray positive = manager.create(new boolean[][] {{true, true, false, true}});
      NDArray selected = HardNegativeMiner.builder().build().select(loss, positive);
      assertArrayEquals(new boolean[] {false, false, true, false}, selected.toBooleanArray());
    }
  }

  @Test
  void emptyAndBadInput() {
    try (NDManager manager = NDManager.newBaseManager()) {
      HardNegativeMiner miner = HardNegativeMiner.builder().build();
      NDArray empty =
          miner.select(
              manager.zeros(new Shape(2, 0)), manager.zeros(new Shape(2, 0), DataType.BOOLEAN));
      assertEquals(new Shape(2, 0), empty.getShape());
      IllegalArgumentException shape =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  miner.select(
                      manager.zeros(new Shape(2, 5)),
                      manager.zeros(new Shape(2, 4), DataType.BOOLEAN)));
      assertTrue(shape.getMessage().contains("positiveMask"));
      assertTrue(shape.getMessage().contains("(2, 4)"));
      IllegalArgumentException rank =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  miner.select(
                      manager.zeros(new Shape(5)), manager.zeros(new Shape(5), DataType.BOOLEAN)));
      assertTrue(rank.getMessage().contains("perAnchorLoss"));
      IllegalArgumentException nan =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  miner.select(
                      manager.create(new float[][] {{1f, Float.NaN}}),
                      manager.zeros(new Shape(1, 2), DataType.BOOLEAN)));
      assertTrue(nan.getMessage().contains("NaN"));
      assertThrows(
          IllegalArgumentException.class,
          () -> HardNegativeMiner.builder().optNegPosRatio(-1f).build());
      assertThrows(
          IllegalArgumentException.class,
          () -> HardNegativeMiner.builder().optMinNegatives(-2).build());
    }
  }
}
