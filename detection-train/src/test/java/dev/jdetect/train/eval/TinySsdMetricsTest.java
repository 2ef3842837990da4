package dev.jdetect.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class TinySsdMetricsTest {

  @Test
  void classErrorAndMaskedMae() {
    try (NDManager m = NDManager.newBaseManager()) {
      // 1 image, 3 anchors, 2 classes (background + 1): arg-max 1, 0, 1; labels 1, 1, 1
      NDArray cls = m.create(new float[] {0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, new Shape(1, 3, 2));
      NDArray labels = m.create(new long[] {1, 1, 1}, new Shape(1, 3));
      assertEquals(2, TinySsdMetrics.correctClassCount(cls, labels));
      // offsets (1, 4): preds 1,2,3,4; targets 2,2,2,2; mask 1,1,0,0 -> |1| + |0| = 1
      NDArray bp = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 4));
      NDArray bl = m.create(new float[] {2, 2, 2, 2}, new Shape(1, 4));
      NDArray bm = m.create(new float[] {1, 1, 0, 0}, new Shape(1, 4));
      assertEquals(1.0, TinySsdMetrics.maskedAbsErrorSum(bp, bl, bm), 1e-12);

      TinySsdMetrics acc = new TinySsdMetrics();
      acc.update(cls, labels, bp, bl, bm);
      assertEquals(1.0 / 3.0, acc.getClassError(), 1e-12);
      assertEquals(0.25, acc.getBboxMae(), 1e-12);
      // a second, perfect batch: 5 of 6 anchors correct, error 1 over 8 values
      acc.update(cls, m.create(new long[] {1, 0, 1}, new Shape(1, 3)), bp, bp, bm);
      assertEquals(1.0 / 6.0, acc.getClassError(), 1e-12);
      assertEquals(1.0 / 8.0, acc.getBboxMae(), 1e-12);
      acc.reset();
      assertEquals(Double.NaN, acc.getClassError());

      assertThrows(
          IllegalArgumentException.class,
          () ->
              TinySsdMetrics.correctClassCount(cls, m.create(new long[] {1, 1}, new Shape(1, 2))));
      assertThrows(
          IllegalArgumentException.class,
          () -> TinySsdMetrics.maskedAbsErrorSum(bp, bl, m.create(new float[] {1, 1})));
    }
  }
}
