package dev.jdetect.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ObjectAnnotation;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvalInputsTest {

  @Test
  void fromArraysConvertsTypesWithoutLeaking() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.create(new float[] {0, 0, 10, 10, 5, 5, 8, 9}, new Shape(2, 4));
      NDArray scores = m.create(new double[] {0.9, 0.25});
      NDArray labels = m.create(new int[] {2, 1});
      Predictions p = Predictions.of(boxes, scores, labels);
      assertEquals(2, p.size());
      assertEquals(2, p.label(0));
      assertEquals(0.25f, p.score(1));
      assertEquals(9f, p.box(1, 3));
      GroundTruth g = GroundTruth.of(boxes, labels, m.create(new int[] {0, 1}));
      assertFalse(g.isDifficult(0));
      assertTrue(g.isDifficult(1));
      assertEquals(12f, g.area(1)); // 3 x 4 box
      assertEquals(4, m.getManagedArrays().size()); // no converted copies left behind
      assertThrows(
          IllegalArgumentException.class,
          () -> Predictions.of(boxes, m.create(new float[] {1f}), labels));
      assertThrows(
          IllegalArgumentException.class,
          () -> GroundTruth.of(m.create(new float[] {1, 2, 3}), labels, null));
    }
  }

  @Test
  void fromAnnotationKeepsFlagsAndArea() {
    ImageAnnotation a =
        new ImageAnnotation(
            "x",
            Path.of("x.png"),
            50,
            50,
            List.of(
                new ObjectAnnotation(1, 0, 0, 10, 10, true, false),
                new ObjectAnnotation(2, 0, 0, 20, 20, false, true, 123f)));
    GroundTruth g = GroundTruth.of(a);
    assertEquals(2, g.size());
    assertTrue(g.isDifficult(0));
    assertTrue(g.isCrowd(1));
    assertEquals(100f, g.area(0));
    assertEquals(123f, g.area(1));
  }

  @Test
  void infiniteCoordinatesAreRejected() {
    for (double inf : new double[] {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> GroundTruth.builder().add(1, 0, 0, 5, inf));
      assertTrue(e.getMessage().contains("must be finite"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Predictions.builder().add(1, 0.5, inf, 0, 5, 5));
      assertTrue(e.getMessage().contains("must be finite"), e.getMessage());
    }
    // -Inf <= x1 <= x2 <= +Inf passed the old x2 >= x1 check
    assertThrows(
        IllegalArgumentException.class,
        () ->
            GroundTruth.builder().add(1, Double.NEGATIVE_INFINITY, 0, Double.POSITIVE_INFINITY, 5));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.create(new float[] {0, 0, Float.POSITIVE_INFINITY, 4}, new Shape(1, 4));
      NDArray labels = m.create(new int[] {1});
      assertThrows(IllegalArgumentException.class, () -> GroundTruth.of(boxes, labels, null));
    }
  }

  @Test
  void detectionsOfAnUnknownImageIdAreRefused() {
    for (ImageEvaluator ev :
        List.of(
            CocoEvaluator.builder().setNumClasses(1).build(),
            VocEvaluator.builder().setNumClasses(1).build())) {
      ev.add(4, GroundTruth.builder().add(1, 0, 0, 10, 10).build(), Predictions.builder().build());
      ev.addPredictions(17, Predictions.builder().add(1, 0.9, 0, 0, 10, 10).build());
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> {
                if (ev instanceof CocoEvaluator) {
                  ((CocoEvaluator) ev).evaluate();
                } else {
                  ((VocEvaluator) ev).evaluate();
                }
              });
      assertTrue(e.getMessage().contains("image id 17"), e.getMessage());
      // once the image's (empty) ground truth is known the detection is a false positive
      ev.addGroundTruth(17, GroundTruth.builder().build());
      assertEquals(2, ev.size());
      assertThrows(
          IllegalArgumentException.class,
          () -> ev.addGroundTruth(4, GroundTruth.builder().build()),
          "duplicate id");
    }
  }

  @Test
  void scoresAndCoordinatesKeepDoublePrecision() {
    Predictions p = Predictions.builder().add(1, 0.5 + 1e-12, 0.1, 0.2, 10.3, 5.000000001).build();
    assertEquals(0.5 + 1e-12, p.score(0));
    assertEquals(5.000000001, p.box(0, 3));
    GroundTruth g = GroundTruth.builder().add(1, 0, 0, 32, 32, false, false, 1024.00005).build();
    assertEquals(1024.00005, g.area(0));
  }
}
