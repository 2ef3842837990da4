package dev.jdetect.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CocoEvaluatorTest {

  private static final double EPS = 1e-12;

  private static CocoResult run(int classes, Object... pairs) {
    CocoEvaluator ev = CocoEvaluator.builder().setNumClasses(classes).build();
    for (int i = 0; i < pairs.length; i += 2) {
      ev.add((GroundTruth) pairs[i], (Predictions) pairs[i + 1]);
    }
    return ev.evaluate();
  }

  @Test
  void perfectSmallDetection() {
    // one 10x10 GT (area 100: small), one exact detection: every threshold TP -> AP 1.
    // medium/large: the GT is outside the range (ignored), the unmatched... det is matched to the
    // ignored GT -> no non-ignored GT -> -1.
    CocoResult r =
        run(
            1,
            GroundTruth.builder().add(1, 0, 0, 10, 10).build(),
            Predictions.builder().add(1, 0.9f, 0, 0, 10, 10).build());
    assertEquals(1.0, r.getAp(), EPS);
    assertEquals(1.0, r.getAp50(), EPS);
    assertEquals(1.0, r.getAp75(), EPS);
    assertEquals(1.0, r.getApSmall(), EPS);
    assertEquals(-1.0, r.getApMedium(), EPS);
    assertEquals(-1.0, r.getApLarge(), EPS);
    assertEquals(1.0, r.getAr(1), EPS);
    assertEquals(1.0, r.getArSmall(), EPS);
  }

  @Test
  void apAveragesOverIouThresholds() {
    // det [0,0,10,7.8] vs GT [0,0,10,10]: IoU ~0.78 -> TP at .50 .55 .60 .65 .70 .75 (6 of 10),
    // FP at .80..95 where rc = [0], pr = [0] -> all 101 samples 0. AP = 6/10; AP50 = AP75 = 1.
    CocoResult r =
        run(
            1,
            GroundTruth.builder().add(1, 0, 0, 10, 10).build(),
            Predictions.builder().add(1, 0.9f, 0, 0, 10, 7.8f).build());
    assertEquals(0.6, r.getAp(), EPS);
    assertEquals(1.0, r.getAp50(), EPS);
    assertEquals(1.0, r.getAp75(), EPS);
    assertEquals(0.6, r.getAr(100), EPS);
  }

  @Test
  void interpolatesAt101RecallPoints() {
    // GT a, b; dets .9 on a (TP), .8 far (FP), .7 on b (TP).
    // rc = .5, .5, 1; pr = 1, .5, 2/3 -> monotone 1, 2/3, 2/3.
    // recall thresholds 0, .01, ..., .5 (51 values): first rc >= r is index 0 -> 1;
    // .51 .. 1 (50 values): index 2 -> 2/3. AP = (51 + 50 * 2/3) / 101 = 253/303.
    CocoResult r =
        run(
            1,
            GroundTruth.builder().add(1, 0, 0, 10, 10).add(1, 20, 0, 30, 10).build(),
            Predictions.builder()
                .add(1, 0.9f, 0, 0, 10, 10)
                .add(1, 0.8f, 50, 50, 60, 60)
                .add(1, 0.7f, 20, 0, 30, 10)
                .build());
    assertEquals(253.0 / 303.0, r.getAp(), EPS);
    assertEquals(253.0 / 303.0, r.getAp50(), EPS);
    // AR@1: only the top detection per image -> recall .5; AR@10 -> 1
    assertEquals(0.5, r.getAr(1), EPS);
    assertEquals(1.0, r.getAr(10), EPS);
  }

  @Test
  void crowdRegionAbsorbsDetectionsWithoutCounting() {
    // GT a [0,0,10,10] and crowd c [20,0,60,40]. Dets: .9 on a (TP), .8 and .7 inside c
    // (IoU with crowd = inter / det area = 1 -> matched to an ignored GT: neither TP nor FP;
    // a crowd region takes any number of matches), .6 far away (FP).
    // npig = 1; tp 1,1,1,1; fp 0,0,0,1 -> rc 1,1,1,1; pr 1,1,1,.5 -> every sample is pr[0] = 1.
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).addCrowd(1, 20, 0, 60, 40).build();
    Predictions p =
        Predictions.builder()
            .add(1, 0.9f, 0, 0, 10, 10)
            .add(1, 0.8f, 20, 0, 30, 10)
            .add(1, 0.7f, 40, 20, 50, 30)
            .add(1, 0.6f, 100, 100, 110, 110)
            .build();
    CocoResult r = run(1, g, p);
    assertEquals(1.0, r.getAp(), EPS);
    assertEquals(1.0, r.getAr(100), EPS);

    // Without the crowd flag the region is an ordinary GT (npig = 2): the .8 and .7 dets have
    // IoU 100/1600 -> FP. tp 1,1,1,1; fp 0,1,2,3; rc .5 x4; pr 1, .5, 1/3, 1/4 -> monotone
    // 1, .5, 1/3, 1/4. r <= .5 (51 values) -> 1, r > .5 -> beyond the curve -> 0. AP = 51/101.
    GroundTruth plain = GroundTruth.builder().add(1, 0, 0, 10, 10).add(1, 20, 0, 60, 40).build();
    assertEquals(51.0 / 101.0, run(1, plain, p).getAp(), EPS);
  }

  @Test
  void noDetectionClassScoresZeroAndNoGroundTruthClassIsExcluded() {
    // class 1 perfect (AP 1), class 2 GT only (AP 0), class 3 detection only (excluded).
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).add(2, 20, 20, 30, 30).build();
    Predictions p =
        Predictions.builder().add(1, 0.9f, 0, 0, 10, 10).add(3, 0.9f, 40, 40, 50, 50).build();
    CocoResult r = run(3, g, p);
    assertEquals(1.0, r.getClassAp(1), EPS);
    assertEquals(0.0, r.getClassAp(2), EPS);
    assertEquals(-1.0, r.getClassAp(3), EPS);
    assertEquals(0.5, r.getAp(), EPS);
    assertEquals(
        -1.0, run(1, GroundTruth.builder().build(), Predictions.builder().build()).getAp());
  }

  @Test
  void scoreTiesKeepInsertionOrder() {
    // One GT; two detections with the same score: FP added first, then TP.
    // order FP, TP: rc 0, 1; pr 0, .5 -> monotone .5, .5 -> every sample .5 -> AP .5
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).build();
    Predictions fpFirst =
        Predictions.builder().add(1, 0.8f, 50, 50, 60, 60).add(1, 0.8f, 0, 0, 10, 10).build();
    assertEquals(0.5, run(1, g, fpFirst).getAp(), EPS);
    // order TP, FP: rc 1, 1; pr 1, .5 -> every sample index 0 -> AP 1
    Predictions tpFirst =
        Predictions.builder().add(1, 0.8f, 0, 0, 10, 10).add(1, 0.8f, 50, 50, 60, 60).build();
    assertEquals(1.0, run(1, g, tpFirst).getAp(), EPS);
  }

  @Test
  void sizeRangesIgnoreOutOfRangeGroundTruthAndDetections() {
    // image 1: medium GT 40x40 (area 1600) with an exact det .9;
    // image 2: large GT 100x100 with a far-away large det .8 (FP).
    // all: npig 2; TP, FP -> rc .5, .5; pr 1, .5 -> 51 samples of 1 -> AP 51/101
    // medium: image 2's GT ignored (too large) and its unmatched det is too large -> ignored;
    //   image 1 TP -> AP 1
    // large: image 1's GT ignored, its det matches it -> ignored; image 2 FP -> AP 0
    // small: no GT -> -1
    GroundTruth g1 = GroundTruth.builder().add(1, 0, 0, 40, 40).build();
    Predictions p1 = Predictions.builder().add(1, 0.9f, 0, 0, 40, 40).build();
    GroundTruth g2 = GroundTruth.builder().add(1, 0, 0, 100, 100).build();
    Predictions p2 = Predictions.builder().add(1, 0.8f, 200, 200, 300, 300).build();
    CocoResult r = run(1, g1, p1, g2, p2);
    assertEquals(51.0 / 101.0, r.getAp(), EPS);
    assertEquals(1.0, r.getApMedium(), EPS);
    assertEquals(0.0, r.getApLarge(), EPS);
    assertEquals(-1.0, r.getApSmall(), EPS);
    assertEquals(1.0, r.getArMedium(), EPS);
    assertEquals(0.0, r.getArLarge(), EPS);
  }

  @Test
  void explicitAreaOverridesBoxArea() {
    // a 40x40 box whose annotated (segmentation) area is 500 counts as small
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 40, 40, false, false, 500f).build();
    CocoResult r = run(1, g, Predictions.builder().add(1, 0.9f, 0, 0, 40, 40).build());
    assertEquals(1.0, r.getApSmall(), EPS);
    assertEquals(-1.0, r.getApMedium(), EPS);
  }

  @Test
  void atMostHundredDetectionsPerImageAndClass() {
    // 100 false positives scored above one true positive: the TP is the 101st -> cut -> AP 0.
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 10, 10).build();
    Predictions.Builder b = Predictions.builder();
    for (int i = 0; i < 100; i++) {
      b.add(1, 0.9f, 100 + i, 100, 105 + i, 105);
    }
    b.add(1, 0.1f, 0, 0, 10, 10);
    assertEquals(0.0, run(1, g, b.build()).getAp(), EPS);
  }

  @Test
  void linspaceMatchesNumpy() {
    double[] t = CocoEvaluator.linspace(0.5, 0.95, 10);
    assertEquals(0.5, t[0]);
    assertEquals(0.95, t[9]);
    double[] r = CocoEvaluator.linspace(0, 1, 101);
    assertEquals(0.01, r[1]);
    assertEquals(1.0, r[100]);
  }
}
