package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.ImageTargets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultiBoxLossTest {

  private static final float[][] ANCHORS = {{0, 0, 10, 10}, {20, 20, 30, 30}, {40, 40, 50, 50}};
  private static final float[][] LOGITS = {{0.5f, -1f, 2f}, {1f, 0.2f, 3f}, {-0.5f, 0.3f, 0.1f}};

  private static double ce(float[] logits, int label) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (float v : logits) {
      sum += Math.exp(v - max);
    }
    return -(logits[label] - max - Math.log(sum));
  }

  @Test
  void handComputedLossWithOnePositive() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray anchors = m.create(ANCHORS);
      NDArray cls = m.create(LOGITS).reshape(1, 3, 3);
      NDArray box = m.zeros(new Shape(1, 3, 4));
      // IoU with anchor 0 is 90/110; encoded deltas (10 * 1/10, 0, 0, 0) -> smooth-L1 0.5
      List<ImageTargets> targets =
          List.of(
              new ImageTargets(m.create(new float[][] {{1, 0, 11, 10}}), m.create(new long[] {2})));
      NDList all = MultiBoxLoss.builder().build().compute(cls, box, anchors, targets);
      assertEquals(0.5f, all.get(0).getFloat(), 1e-6f);
      double want = ce(LOGITS[0], 2) + ce(LOGITS[1], 0) + ce(LOGITS[2], 0);
      assertEquals(want, all.get(1).getFloat(), 1e-5);
      // one negative per positive: only the hardest negative (largest CE) counts
      NDList one =
          MultiBoxLoss.builder().optNegPosRatio(1).build().compute(cls, box, anchors, targets);
      double hardest = Math.max(ce(LOGITS[1], 0), ce(LOGITS[2], 0));
      assertEquals(ce(LOGITS[0], 2) + hardest, one.get(1).getFloat(), 1e-5);
    }
  }

  @Test
  void imagesWithoutObjectsTrainOnTheirHardestNegatives() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray anchors = m.create(ANCHORS);
      NDArray cls = m.create(LOGITS).reshape(1, 3, 3).repeat(0, 2);
      NDArray box = m.zeros(new Shape(2, 3, 4));
      ImageTargets empty =
          new ImageTargets(m.zeros(new Shape(0, 4)), m.zeros(new Shape(0), DataType.INT64));
      ImageTargets one =
          new ImageTargets(m.create(new float[][] {{1, 0, 11, 10}}), m.create(new long[] {2}));
      double background = ce(LOGITS[0], 0) + ce(LOGITS[1], 0) + ce(LOGITS[2], 0);

      // default: the empty image still mines min(3, 3 anchors) negatives = all its anchors
      MultiBoxLoss loss = MultiBoxLoss.builder().build();
      NDList mixed = loss.compute(cls, box, anchors, List.of(one, empty));
      NDList single = loss.compute(cls.get("0:1"), box.get("0:1"), anchors, List.of(one));
      assertEquals(single.get(0).getFloat(), mixed.get(0).getFloat(), 1e-6f);
      assertEquals(single.get(1).getFloat() + background, mixed.get(1).getFloat(), 1e-5);
      NDList none = loss.compute(cls, box, anchors, List.of(empty, empty));
      assertEquals(0f, none.get(0).getFloat(), 0f);
      assertEquals(2 * background, none.get(1).getFloat(), 1e-5); // divided by max(1, 0 pos)

      // minNegatives 0 is torchvision 0.14.1: an empty image adds nothing
      MultiBoxLoss torchvision = MultiBoxLoss.builder().optMinNegatives(0).build();
      NDList tvMixed = torchvision.compute(cls, box, anchors, List.of(one, empty));
      assertEquals(single.get(1).getFloat(), tvMixed.get(1).getFloat(), 1e-6f);
      NDList tvNone = torchvision.compute(cls, box, anchors, List.of(empty, empty));
      assertEquals(0f, tvNone.get(1).getFloat(), 0f);
      assertThrows(
          IllegalArgumentException.class, () -> MultiBoxLoss.builder().optMinNegatives(-1));
    }
  }

  @Test
  void focalWithAlphaOneGammaZeroIsCrossEntropyOverAllBoxes() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray anchors = m.create(ANCHORS);
      NDArray cls = m.create(LOGITS).reshape(1, 3, 3);
      NDArray box = m.zeros(new Shape(1, 3, 4));
      List<ImageTargets> targets =
          List.of(
              new ImageTargets(m.create(new float[][] {{1, 0, 11, 10}}), m.create(new long[] {2})));
      NDList focal =
          MultiBoxLoss.builder().optFocal(1f, 0f).build().compute(cls, box, anchors, targets);
      double all = ce(LOGITS[0], 2) + ce(LOGITS[1], 0) + ce(LOGITS[2], 0);
      assertEquals(all, focal.get(1).getFloat(), 1e-5);
      NDList sharp =
          MultiBoxLoss.builder().optFocal(0.25f, 2f).build().compute(cls, box, anchors, targets);
      double p0 = Math.exp(-ce(LOGITS[0], 2));
      double p1 = Math.exp(-ce(LOGITS[1], 0));
      double p2 = Math.exp(-ce(LOGITS[2], 0));
      double want =
          0.25
              * (Math.pow(1 - p0, 2) * ce(LOGITS[0], 2)
                  + Math.pow(1 - p1, 2) * ce(LOGITS[1], 0)
                  + Math.pow(1 - p2, 2) * ce(LOGITS[2], 0));
      assertEquals(want, sharp.get(1).getFloat(), 1e-5);
      assertEquals(0.5f, sharp.get(0).getFloat(), 1e-6f);
    }
  }

  @Test
  void rejectsMismatchedShapesAndSettings() {
    try (NDManager m = NDManager.newBaseManager()) {
      MultiBoxLoss loss = MultiBoxLoss.builder().build();
      NDArray anchors = m.create(ANCHORS);
      assertThrows(
          IllegalArgumentException.class,
          () ->
              loss.compute(
                  m.zeros(new Shape(1, 4, 3)), m.zeros(new Shape(1, 3, 4)), anchors, List.of()));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              loss.compute(
                  m.zeros(new Shape(1, 3, 3)), m.zeros(new Shape(1, 3, 4)), anchors, List.of()));
      assertThrows(
          IllegalArgumentException.class, () -> MultiBoxLoss.builder().optIouThreshold(0).build());
      assertThrows(
          IllegalArgumentException.class, () -> MultiBoxLoss.builder().optNegPosRatio(-1).build());
    }
  }
}
