package dev.jdetect.core.box;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Boxes} against torchvision 0.14.1 ({@code fixtures/box/box_ops.npz}, written by {@code
 * src/fixtures/gen_core_box_anchor.py}) plus hand-computed and bad-input cases. Floats are compared
 * with an absolute tolerance of 1e-5 (all values here are below ~600).
 */
@ExtendWith(NDManagerExtension.class)
class BoxesTest {

  private static final double TOL = 1e-5;

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/box/box_ops.npz");
  }

  private NDArray fx(String name) {
    return Fixtures.get(fx, name);
  }

  @Test
  void areaMatchesTorchvision() {
    assertClose(fx("area1"), Boxes.area(fx("boxes1")), TOL);
    assertClose(fx("area2"), Boxes.area(fx("boxes2")), TOL);
  }

  @Test
  void iouMatchesTorchvision() {
    NDArray iou = Boxes.iou(fx("boxes1"), fx("boxes2"));
    assertEquals(new Shape(40, 25), iou.getShape());
    assertClose(fx("iou"), iou, TOL);
    // Row 2 is a copy of boxes2[3]; row 4 is far from everything; row 0 has zero width.
    assertEquals(1f, iou.getFloat(2, 3));
    assertEquals(0f, iou.get(4).sum().getFloat());
    assertEquals(0f, iou.get(0).sum().getFloat());
  }

  @Test
  void iouGradientMatchesTorchvision() {
    NDArray a = fx("grad_boxes1").duplicate();
    NDArray b = fx("grad_boxes2").duplicate();
    a.setRequiresGradient(true);
    b.setRequiresGradient(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray loss = Boxes.iou(a, b).mul(fx("grad_weight")).sum();
      gc.backward(loss);
    }
    assertClose(fx("grad_iou_boxes1"), a.getGradient(), TOL);
    assertClose(fx("grad_iou_boxes2"), b.getGradient(), TOL);
  }

  @Test
  void clipMatchesTorchvision() {
    NDArray clipped = Boxes.clip(fx("clip_boxes"), 60, 80);
    assertEquals(new Shape(2, 10, 4), clipped.getShape());
    assertClose(fx("clip_boxes_out"), clipped, TOL);
    assertClose(fx("clip_boxes_2d_out"), Boxes.clip(fx("clip_boxes").get(0), 60, 80), TOL);
  }

  @Test
  void removeSmallMatchesTorchvision() {
    for (String min : new String[] {"0", "5", "20"}) {
      NDArray keep = Boxes.removeSmall(fx("boxes1"), Float.parseFloat(min));
      assertEquals(DataType.INT64, keep.getDataType());
      assertArrayEquals(fx("remove_small_" + min).toLongArray(), keep.toLongArray(), min);
    }
  }

  @Test
  void conversionsMatchTorchvision() {
    NDArray cxcywh = Boxes.xyxyToCxcywh(fx("boxes1"));
    assertClose(fx("xyxy_to_cxcywh"), cxcywh, TOL);
    assertClose(fx("cxcywh_to_xyxy"), Boxes.cxcywhToXyxy(fx("cxcywh")), TOL);
    assertClose(fx("boxes1"), Boxes.cxcywhToXyxy(cxcywh), TOL);
  }

  @Test
  void handComputedValues() {
    NDArray a = manager.create(new float[] {0, 0, 2, 2, 0, 0, 2, 3}, new Shape(2, 4));
    NDArray b = manager.create(new float[] {1, 1, 3, 3, 2, 0, 4, 2, 0, 0, 2, 2}, new Shape(3, 4));
    assertArrayEquals(new float[] {4f, 6f}, Boxes.area(a).toFloatArray());
    // [0,0,2,2] vs [1,1,3,3]: inter 1, union 7. Touching boxes: IoU 0. Identical: 1.
    // [0,0,2,3] vs [1,1,3,3]: inter 2, union 6+4-2=8; vs [0,0,2,2]: inter 4, union 6.
    float[] expected = {1f / 7f, 0f, 1f, 2f / 8f, 0f, 4f / 6f};
    assertArrayEquals(expected, Boxes.iou(a, b).toFloatArray(), 1e-7f);

    NDArray boxes = manager.create(new float[] {-5, 3, 120, 70, 10, -1, 20, 5}, new Shape(2, 4));
    assertArrayEquals(
        new float[] {0, 3, 100, 50, 10, 0, 20, 5}, Boxes.clip(boxes, 50, 100).toFloatArray());

    NDArray small =
        manager.create(new float[] {0, 0, 4, 10, 0, 0, 5, 5, 1, 1, 9, 4.99f}, new Shape(3, 4));
    assertArrayEquals(new long[] {1}, Boxes.removeSmall(small, 5f).toLongArray());

    NDArray xyxy = manager.create(new float[] {1, 2, 5, 10}, new Shape(1, 4));
    assertArrayEquals(new float[] {3, 6, 4, 8}, Boxes.xyxyToCxcywh(xyxy).toFloatArray());
    assertArrayEquals(
        new float[] {1, 2, 5, 10},
        Boxes.cxcywhToXyxy(manager.create(new float[] {3, 6, 4, 8}, new Shape(1, 4)))
            .toFloatArray());
  }

  @Test
  void otherDtypesAndLeadingAxes() {
    NDArray a = manager.create(new double[] {0, 0, 2, 2}, new Shape(1, 4));
    NDArray b = manager.create(new int[] {1, 1, 3, 3}, new Shape(1, 4));
    assertEquals(DataType.FLOAT64, Boxes.iou(a, b).getDataType());
    assertEquals(1.0 / 7.0, Boxes.iou(a, b).getDouble(0, 0), 1e-12);
    NDArray intA = manager.create(new int[] {0, 0, 2, 2}, new Shape(1, 4));
    NDArray intIou = Boxes.iou(intA, b);
    assertEquals(DataType.FLOAT32, intIou.getDataType());
    assertEquals(1f / 7f, intIou.getFloat(0, 0), 1e-7f);
    NDArray intBoxes = manager.create(new long[] {-3, 2, 50, 9}, new Shape(1, 4));
    NDArray intClipped = Boxes.clip(intBoxes, 8, 40);
    assertEquals(DataType.INT64, intClipped.getDataType());
    assertArrayEquals(new long[] {0, 2, 40, 8}, intClipped.toLongArray());
    NDArray wide = manager.create(new double[] {-3, 2, 50, 9}, new Shape(1, 4));
    assertEquals(DataType.FLOAT64, Boxes.clip(wide, 8, 40).getDataType());
    NDArray batch = manager.create(new float[] {1, 2, 5, 10, 0, 0, 2, 2}, new Shape(2, 1, 4));
    NDArray conv = Boxes.xyxyToCxcywh(batch);
    assertEquals(new Shape(2, 1, 4), conv.getShape());
    assertArrayEquals(new float[] {3, 6, 4, 8, 1, 1, 2, 2}, conv.toFloatArray());
  }

  @Test
  void emptySetsGiveEmptyResults() {
    NDArray empty = manager.zeros(new Shape(0, 4));
    NDArray three =
        manager.create(new float[] {0, 0, 1, 1, 0, 0, 2, 2, 1, 1, 3, 3}, new Shape(3, 4));
    assertEquals(new Shape(0), Boxes.area(empty).getShape());
    assertEquals(new Shape(0, 3), Boxes.iou(empty, three).getShape());
    assertEquals(new Shape(3, 0), Boxes.iou(three, empty).getShape());
    assertEquals(new Shape(0, 0), Boxes.iou(empty, empty).getShape());
    assertEquals(new Shape(0, 4), Boxes.clip(empty, 10, 10).getShape());
    NDArray keep = Boxes.removeSmall(empty, 1f);
    assertEquals(new Shape(0), keep.getShape());
    assertEquals(DataType.INT64, keep.getDataType());
    assertEquals(new Shape(0, 4), Boxes.xyxyToCxcywh(empty).getShape());
    assertEquals(new Shape(0, 4), Boxes.cxcywhToXyxy(empty).getShape());
    Boxes.checkBoxes(empty, "boxes");
  }

  @Test
  void badShapesAreRejected() {
    NDArray five = manager.zeros(new Shape(3, 5));
    NDArray ok = manager.zeros(new Shape(2, 4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Boxes.iou(ok, five));
    assertTrue(
        e.getMessage().contains("boxesB") && e.getMessage().contains("(3, 5)"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Boxes.area(manager.zeros(new Shape(4))));
    assertTrue(e.getMessage().contains("boxes") && e.getMessage().contains("(4)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Boxes.clip(five, 10, 10));
    assertThrows(IllegalArgumentException.class, () -> Boxes.xyxyToCxcywh(five));
    assertThrows(
        IllegalArgumentException.class,
        () -> Boxes.cxcywhToXyxy(manager.zeros(new Shape(2, 4, 3))));
    assertThrows(
        IllegalArgumentException.class,
        () -> Boxes.removeSmall(manager.zeros(new Shape(2, 2, 4)), 1f));
    assertThrows(IllegalArgumentException.class, () -> Boxes.iou(null, ok));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Boxes.iou(ok, ok.toType(DataType.BOOLEAN, false)));
    assertTrue(e.getMessage().contains("dtype"), e.getMessage());
  }

  @Test
  void badScalarsAreRejected() {
    NDArray ok = manager.zeros(new Shape(2, 4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Boxes.clip(ok, -1, 10));
    assertTrue(e.getMessage().contains("height=-1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Boxes.removeSmall(ok, Float.NaN));
    assertThrows(IllegalArgumentException.class, () -> Boxes.removeSmall(ok, -1f));
  }

  @Test
  void checkBoxesRejectsBadContents() {
    Boxes.checkBoxes(manager.create(new float[] {0, 0, 0, 0, 1, 2, 3, 4}, new Shape(2, 4)), "b");

    NDArray nan = manager.create(new float[] {0, 0, 1, 1, 0, Float.NaN, 1, 1}, new Shape(2, 4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Boxes.checkBoxes(nan, "gtBoxes"));
    assertTrue(e.getMessage().contains("gtBoxes must be finite, row 1"), e.getMessage());

    NDArray inf = manager.create(new float[] {0, 0, Float.POSITIVE_INFINITY, 1}, new Shape(1, 4));
    e = assertThrows(IllegalArgumentException.class, () -> Boxes.checkBoxes(inf, "b"));
    assertTrue(e.getMessage().contains("finite, row 0"), e.getMessage());

    NDArray flippedX =
        manager.create(new float[] {0, 0, 1, 1, 0, 0, 1, 1, 5, 0, 4, 1}, new Shape(3, 4));
    e = assertThrows(IllegalArgumentException.class, () -> Boxes.checkBoxes(flippedX, "boxes"));
    assertTrue(
        e.getMessage().contains("x2 >= x1") && e.getMessage().contains("row 2"), e.getMessage());

    NDArray flippedY = manager.create(new float[] {0, 3, 1, 1}, new Shape(1, 4));
    e = assertThrows(IllegalArgumentException.class, () -> Boxes.checkBoxes(flippedY, "boxes"));
    assertTrue(e.getMessage().contains("row 0 is [0.0, 3.0, 1.0, 1.0]"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Boxes.checkBoxes(manager.zeros(new Shape(2, 3)), "anchors"));
    assertTrue(
        e.getMessage().contains("anchors must have shape (N, 4), got (2, 3)"), e.getMessage());
  }

  @Test
  void resultsStayOnTheInputManagerAndTemporariesAreFreed() {
    NDArray a = fx("boxes1");
    NDArray b = fx("boxes2");
    try (NDManager sub = manager.newSubManager()) {
      NDArray sa = a.duplicate();
      sa.attach(sub);
      NDArray iou = Boxes.iou(sa, b);
      assertEquals(sub, iou.getManager());
      // only inputs and the result remain attached to the caller's sub-manager
      assertEquals(2, sub.getManagedArrays().size());
    }
  }

  static void assertClose(NDArray expected, NDArray actual, double absTol) {
    assertEquals(expected.getShape(), actual.getShape(), "shape");
    double[] e = expected.toType(DataType.FLOAT64, false).toDoubleArray();
    double[] a = actual.toType(DataType.FLOAT64, false).toDoubleArray();
    for (int i = 0; i < e.length; i++) {
      if (Double.isNaN(e[i]) && Double.isNaN(a[i])) {
        continue;
      }
      if (!(Math.abs(e[i] - a[i]) <= absTol)) {
        throw new AssertionError(
            "element " + i + ": expected " + e[i] + " but was " + a[i] + " (tol " + absTol + ")");
      }
    }
  }
}
