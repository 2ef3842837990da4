package dev.jdetect.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class TargetsTest {

  @Test
  void padsAndUnpadsVariableBoxCounts() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray b0 = m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4));
      NDArray l0 = m.create(new long[] {3, 1});
      NDArray b1 = m.zeros(new Shape(0, 4));
      NDArray l1 = m.zeros(new Shape(0), DataType.INT64);
      NDList t = Targets.pad(m, List.of(b0, b1), List.of(l0, l1));
      assertEquals(new Shape(2, 2, 4), t.get(0).getShape());
      assertArrayEquals(new long[] {3, 1, -1, -1}, t.get(1).toLongArray());
      List<ImageTargets> back = Targets.unpad(t);
      assertArrayEquals(b0.toFloatArray(), back.get(0).boxes().toFloatArray());
      assertArrayEquals(new long[] {3, 1}, back.get(0).labels().toLongArray());
      assertEquals(new Shape(0, 4), back.get(1).boxes().getShape());
      assertEquals(new Shape(0), back.get(1).labels().getShape());
    }
  }

  @Test
  void unpadDropsPaddingRowsWherever() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray boxes = m.arange(12f).reshape(1, 3, 4);
      NDArray classes = m.create(new long[] {-1, 2, -1}).reshape(1, 3);
      ImageTargets image = Targets.unpad(new NDList(boxes, classes)).get(0);
      assertArrayEquals(new float[] {4, 5, 6, 7}, image.boxes().toFloatArray());
      assertArrayEquals(new long[] {2}, image.labels().toLongArray());
    }
  }

  @Test
  void emptyBatchPadsToZeroRows() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDList t = Targets.pad(m, List.of(m.zeros(new Shape(0, 4))), List.of(m.zeros(new Shape(0))));
      assertEquals(new Shape(1, 0, 4), t.get(0).getShape());
      assertTrue(Targets.unpad(t).get(0).boxes().isEmpty());
      Targets.validate(t, 3);
    }
  }

  @Test
  void validateNamesImageAndField() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray ok = m.create(new float[] {0, 0, 2, 2}, new Shape(1, 4));
      NDArray degenerate = m.create(new float[] {5, 5, 5, 9}, new Shape(1, 4));
      NDArray nan = m.create(new float[] {0, Float.NaN, 2, 2}, new Shape(1, 4));
      NDArray negative = m.create(new float[] {-1, 0, 2, 2}, new Shape(1, 4));
      NDArray one = m.create(new long[] {1});
      NDArray tooBig = m.create(new long[] {4});

      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  Targets.validate(Targets.pad(m, List.of(ok, degenerate), List.of(one, one)), 3));
      assertTrue(
          e.getMessage().contains("image 1") && e.getMessage().contains("degenerate"),
          e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Targets.validate(Targets.pad(m, List.of(nan), List.of(one)), 3));
      assertTrue(e.getMessage().contains("not finite"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Targets.validate(Targets.pad(m, List.of(negative), List.of(one)), 3));
      assertTrue(e.getMessage().contains("negative"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Targets.validate(Targets.pad(m, List.of(ok), List.of(tooBig)), 3));
      assertTrue(e.getMessage().contains("label 4"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> Targets.pad(m, List.of(ok), List.of(m.create(new long[] {1, 2}))));
    }
  }

  @Test
  void detectionsRoundTripThroughNDList() {
    try (NDManager m = NDManager.newBaseManager()) {
      Detections d =
          new Detections(
              m.create(new float[] {0, 0, 1, 1}, new Shape(1, 4)),
              m.create(new float[] {0.5f}),
              m.create(new long[] {2}));
      List<Detections> back = Detections.fromNDList(Detections.toNDList(List.of(d, d)));
      assertEquals(2, back.size());
      assertEquals(1, back.get(1).size());
      assertArrayEquals(new long[] {2}, back.get(1).labels().toLongArray());
      assertThrows(
          IllegalArgumentException.class,
          () ->
              new Detections(
                  m.zeros(new Shape(2, 4)), m.zeros(new Shape(1)), m.zeros(new Shape(1))));
    }
  }
}
