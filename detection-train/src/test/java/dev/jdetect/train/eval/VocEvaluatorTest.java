package dev.jdetect.train.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VocEvaluatorTest {

  private static final double EPS = 1e-12;

  /** Image A: GT at [0,0,10,10] and [20,20,30,30]; image B: GT at [0,0,10,10]. Class 1. */
  private static GroundTruth gtA() {
    return GroundTruth.builder().add(1, 0, 0, 10, 10).add(1, 20, 20, 30, 30).build();
  }

  private static GroundTruth gtB() {
    return GroundTruth.builder().add(1, 0, 0, 10, 10).build();
  }

  // A: d1 0.9 on GT1 (TP), d2 0.8 on GT2 (TP). B: d3 0.8 far away (FP), d4 0.7 on GT (TP).
  private static Predictions detA() {
    return Predictions.builder().add(1, 0.9f, 0, 0, 10, 10).add(1, 0.8f, 20, 20, 30, 30).build();
  }

  private static Predictions detB() {
    return Predictions.builder().add(1, 0.8f, 50, 50, 60, 60).add(1, 0.7f, 0, 0, 10, 10).build();
  }

  @Test
  void areaUnderCurveWithTiesFollowsInsertionOrder() {
    // Adding A then B, the tie at 0.8 sorts d2 (TP) before d3 (FP):
    // order d1 TP, d2 TP, d3 FP, d4 TP; npos = 3
    // recall 1/3, 2/3, 2/3, 1; precision 1, 1, 2/3, 3/4
    // monotone precision 1, 1, 3/4, 3/4 -> AP = 1/3*1 + 1/3*1 + 1/3*3/4 = 11/12
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(1).build();
    ev.add(gtA(), detA());
    ev.add(gtB(), detB());
    VocResult r = ev.evaluate();
    assertEquals(11.0 / 12.0, r.getAp(1), EPS);
    assertEquals(11.0 / 12.0, r.getMap(), EPS);
    assertEquals(3, r.getNumGroundTruth(1));
    assertArrayEquals(new double[] {1.0 / 3, 2.0 / 3, 2.0 / 3, 1.0}, r.getRecall(1), EPS);
    assertArrayEquals(new double[] {1, 1, 2.0 / 3, 0.75}, r.getPrecision(1), EPS);

    // Adding B then A, the tie sorts d3 (FP) before d2 (TP):
    // recall 1/3, 1/3, 2/3, 1; precision 1, 1/2, 2/3, 3/4
    // monotone 1, 3/4, 3/4, 3/4 -> AP = 1/3 + 1/3*3/4 + 1/3*3/4 = 5/6
    VocEvaluator ev2 = VocEvaluator.builder().setNumClasses(1).build();
    ev2.add(gtB(), detB());
    ev2.add(gtA(), detA());
    assertEquals(5.0 / 6.0, ev2.evaluate().getAp(1), EPS);
  }

  @Test
  void elevenPointMetric() {
    // Same detections (A then B): recall 1/3, 2/3, 2/3, 1; precision 1, 1, 2/3, 3/4.
    // t in {0, .1, .2, .3}: max precision over recall >= t = 1          (4 points)
    // t in {.4, .5, .6}: entries with recall 2/3 or 1 -> max(1, 2/3, 3/4) = 1 (3 points)
    // t in {.7, .8, .9, 1}: only recall 1 -> 3/4                        (4 points)
    // AP = (4 + 3 + 4 * 0.75) / 11 = 10/11
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(1).setUse07Metric(true).build();
    ev.add(gtA(), detA());
    ev.add(gtB(), detB());
    assertEquals(10.0 / 11.0, ev.evaluate().getAp(1), EPS);
  }

  @Test
  void duplicateDetectionIsFalsePositive() {
    // GT [0,0,10,10]; dets 0.9 and 0.8 on it: TP then FP. recall 1, 1; precision 1, 1/2.
    // AP = 1 (area: recall reaches 1 at precision 1); 07: all 11 points -> 1
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).build();
    Predictions p =
        Predictions.builder().add(1, 0.9f, 0, 0, 10, 10).add(1, 0.8f, 0, 0, 10, 10).build();
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(1).build();
    ev.add(g, p);
    VocResult r = ev.evaluate();
    assertEquals(1.0, r.getAp(1), EPS);
    assertArrayEquals(new double[] {1, 0.5}, r.getPrecision(1), EPS);
  }

  @Test
  void difficultIsNeitherTruePositiveNorFalsePositive() {
    // GT: normal [0,0,10,10], difficult [20,20,30,30]; npos = 1.
    // det .9 on the difficult box: ignored; det .8 on the normal box: TP; det .7 far: FP.
    // tp 0,1,1; fp 0,0,1 -> recall 0, 1, 1; precision 0, 1, 1/2 -> AP = 1
    GroundTruth g =
        GroundTruth.builder().add(1, 0, 0, 10, 10).addDifficult(1, 20, 20, 30, 30).build();
    Predictions p =
        Predictions.builder()
            .add(1, 0.9f, 20, 20, 30, 30)
            .add(1, 0.8f, 0, 0, 10, 10)
            .add(1, 0.7f, 40, 40, 50, 50)
            .build();
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(1).build();
    ev.add(g, p);
    VocResult r = ev.evaluate();
    assertEquals(1, r.getNumGroundTruth(1));
    assertEquals(1.0, r.getAp(1), EPS);
    assertArrayEquals(new double[] {0, 1, 0.5}, r.getPrecision(1), EPS);

    // Without the flag the .9 detection would be a TP: npos = 2, recall 1/2, 1, 1.
    GroundTruth plain = GroundTruth.builder().add(1, 0, 0, 10, 10).add(1, 20, 20, 30, 30).build();
    VocEvaluator ev1 = VocEvaluator.builder().setNumClasses(1).build();
    ev1.add(plain, p);
    assertArrayEquals(new double[] {0.5, 1, 1}, ev1.evaluate().getRecall(1), EPS);
    // A class with only a difficult object has no GT -> NaN.
    GroundTruth onlyDifficult = GroundTruth.builder().addDifficult(1, 0, 0, 10, 10).build();
    VocEvaluator ev2 = VocEvaluator.builder().setNumClasses(1).build();
    ev2.add(onlyDifficult, Predictions.builder().add(1, 0.9f, 0, 0, 10, 10).build());
    assertTrue(Double.isNaN(ev2.evaluate().getAp(1)));
    assertTrue(Double.isNaN(ev2.evaluate().getMap()));
  }

  @Test
  void classesWithoutDetectionsScoreZeroAndClassesWithoutGroundTruthAreExcluded() {
    // class 1: perfect -> AP 1; class 2: GT but no detection -> AP 0;
    // class 3: detection but no GT -> NaN, excluded. mAP = (1 + 0) / 2
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).add(2, 20, 20, 30, 30).build();
    Predictions p =
        Predictions.builder().add(1, 0.9f, 0, 0, 10, 10).add(3, 0.5f, 0, 0, 5, 5).build();
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(3).build();
    ev.add(g, p);
    VocResult r = ev.evaluate();
    assertEquals(1.0, r.getAp(1), EPS);
    assertEquals(0.0, r.getAp(2), EPS);
    assertTrue(Double.isNaN(r.getAp(3)));
    assertEquals(0.5, r.getMap(), EPS);
  }

  @Test
  void overlapMustExceedThresholdStrictly() {
    // det [0,0,10,20] vs GT [0,0,10,10]: IoU = 100/200 = 0.5 exactly -> FP (VOC uses '>')
    // det [0,0,10,19]: IoU = 100/190 > 0.5 -> TP
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).build();
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(1).build();
    ev.add(g, Predictions.builder().add(1, 0.9f, 0, 0, 10, 20).build());
    assertEquals(0.0, ev.evaluate().getAp(1), EPS);
    ev.reset();
    ev.add(g, Predictions.builder().add(1, 0.9f, 0, 0, 10, 19).build());
    assertEquals(1.0, ev.evaluate().getAp(1), EPS);
  }

  @Test
  void averagePrecisionOfCurves() {
    // area: recall .5 at precision 1, recall 1 at precision .5 -> .5*1 + .5*.5 = .75
    assertEquals(
        0.75,
        VocEvaluator.averagePrecision(new double[] {0.5, 1}, new double[] {1, 0.5}, false),
        EPS);
    // 11-point: t = 0..0.5 (6 points) -> 1; t = 0.6..1 (5 points) -> .5 => (6 + 2.5) / 11
    assertEquals(
        8.5 / 11,
        VocEvaluator.averagePrecision(new double[] {0.5, 1}, new double[] {1, 0.5}, true),
        EPS);
    assertEquals(0.0, VocEvaluator.averagePrecision(new double[0], new double[0], false), EPS);
  }

  @Test
  void rejectsBadLabels() {
    VocEvaluator ev = VocEvaluator.builder().setNumClasses(2).build();
    GroundTruth g = GroundTruth.builder().add(3, 0, 0, 1, 1).build();
    assertThrows(IllegalArgumentException.class, () -> ev.add(g, Predictions.builder().build()));
    assertThrows(IllegalArgumentException.class, () -> GroundTruth.builder().add(0, 0, 0, 1, 1));
    assertThrows(
        IllegalArgumentException.class, () -> Predictions.builder().add(1, Float.NaN, 0, 0, 1, 1));
  }
}
