package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed proposal filtering: per-level top-k, clip, remove small, NMS per level, top-n. */
class ProposalFilterTest {

  /** Level 0 has four anchors, level 1 two; the image is 20 x 20. */
  private static final int[] PER_LEVEL = {4, 2};

  private static final List<int[]> SIZES = List.of(new int[] {20, 20});

  private static final float[] BOXES = {
    0, 0, 10, 10, // level 0: logit 2
    0, 0, 10, 9, // IoU 0.9 with the first: suppressed within level 0
    5, 5, 25, 25, // clipped to (5, 5, 20, 20)
    0, 0, 4, 4, // lowest logit of level 0: not among its best 3
    0, 0, 10, 10, // level 1: the same box as level 0's best, kept (NMS is per level)
    3, 3, 3.0005f, 8 // narrower than 1e-3: removed
  };

  private static final float[] LOGITS = {2f, 1.8f, 1.5f, 1f, 3f, 0f};

  private static float sigmoid(float x) {
    return (float) (1 / (1 + Math.exp(-x)));
  }

  private static ProposalFilter.Builder builder() {
    return ProposalFilter.builder().optPreNmsTopN(1, 3);
  }

  @Test
  void keepsTheBestOfEveryLevelAfterClippingSizeAndNmsPerLevel() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.create(BOXES, new Shape(1, 6, 4));
      NDArray logits = m.create(LOGITS, new Shape(1, 6));
      Proposals p = builder().build().filter(boxes, logits, PER_LEVEL, SIZES, null, false).get(0);
      assertArrayEquals(
          new float[] {0, 0, 10, 10, 0, 0, 10, 10, 5, 5, 20, 20}, p.boxes().toFloatArray());
      assertArrayEquals(
          new float[] {sigmoid(3f), sigmoid(2f), sigmoid(1.5f)}, p.scores().toFloatArray(), 1e-6f);

      // post-NMS top-n cuts the ranked result
      Proposals two =
          builder()
              .optPostNmsTopN(2000, 2)
              .build()
              .filter(boxes, logits, PER_LEVEL, SIZES, null, false)
              .get(0);
      assertEquals(new Shape(2, 4), two.boxes().getShape());

      // training uses the training top-n: one anchor per level
      Proposals train =
          builder().build().filter(boxes, logits, PER_LEVEL, SIZES, null, true).get(0);
      assertArrayEquals(new float[] {0, 0, 10, 10, 0, 0, 10, 10}, train.boxes().toFloatArray());

      // a score threshold drops the proposals below it
      Proposals above =
          builder()
              .optScoreThreshold(sigmoid(1.9f))
              .build()
              .filter(boxes, logits, PER_LEVEL, SIZES, null, false)
              .get(0);
      assertEquals(2, above.boxes().getShape().get(0));
    }
  }

  @Test
  void softmaxLogitsRankAndScoreByTheObjectProbability() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.create(BOXES, new Shape(1, 6, 4));
      // (background 0, object x) has the object probability sigmoid(x)
      float[] pairs = new float[12];
      for (int i = 0; i < 6; i++) {
        pairs[2 * i + 1] = LOGITS[i];
      }
      NDArray logits = m.create(pairs, new Shape(1, 6, 2));
      Proposals p = builder().build().filter(boxes, logits, PER_LEVEL, SIZES, null, false).get(0);
      assertArrayEquals(
          new float[] {0, 0, 10, 10, 0, 0, 10, 10, 5, 5, 20, 20}, p.boxes().toFloatArray());
      assertArrayEquals(
          new float[] {sigmoid(3f), sigmoid(2f), sigmoid(1.5f)}, p.scores().toFloatArray(), 1e-6f);
    }
  }

  @Test
  void minimumSizeInOriginalPixelsScalesWithTheResize() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.create(BOXES, new Shape(1, 6, 4));
      NDArray logits = m.create(LOGITS, new Shape(1, 6));
      ProposalFilter filter = builder().optMinSize(6f).optMinSizeInOriginalPixels(true).build();
      // at scale 1 the 10 px and 15 px boxes pass a 6 px minimum; upscaled 2x it is 12 px
      assertEquals(
          3,
          filter
              .filter(boxes, logits, PER_LEVEL, SIZES, new float[] {1f}, false)
              .get(0)
              .boxes()
              .getShape()
              .get(0));
      Proposals upscaled =
          filter.filter(boxes, logits, PER_LEVEL, SIZES, new float[] {2f}, false).get(0);
      assertArrayEquals(new float[] {5, 5, 20, 20}, upscaled.boxes().toFloatArray());
    }
  }

  @Test
  void invalidSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> builder().optPreNmsTopN(0, 1).build());
    assertThrows(IllegalArgumentException.class, () -> builder().optNmsThreshold(0f).build());
    assertThrows(IllegalArgumentException.class, () -> builder().optMinSize(-1f).build());
  }

  @Test
  void inputsThatDisagreeAreRejectedWithTheirShapes() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.create(BOXES, new Shape(1, 6, 4));
      NDArray logits = m.create(LOGITS, new Shape(1, 6));
      ProposalFilter filter = builder().build();
      IllegalArgumentException levels =
          assertThrows(
              IllegalArgumentException.class,
              () -> filter.filter(boxes, logits, new int[] {4, 1}, SIZES, null, false));
      assertTrue(levels.getMessage().contains("T = 5"), levels.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> filter.filter(boxes, logits.get(":, :5"), PER_LEVEL, SIZES, null, false));
      assertThrows(
          IllegalArgumentException.class,
          () -> filter.filter(boxes, logits, PER_LEVEL, List.of(), null, false));
    }
  }
}
