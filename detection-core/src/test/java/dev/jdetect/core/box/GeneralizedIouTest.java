package dev.jdetect.core.box;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import org.junit.jupiter.api.Test;

/** Generalized IoU and xywh conversion equal torchvision 0.14.1 (gen_core_retinanet.py). */
class GeneralizedIouTest {

  private static final String FIXTURE = "/fixtures/box/generalized_iou.npz";

  @Test
  void pairwiseGeneralizedIouMatchesTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, FIXTURE);
      NDArray got = Boxes.generalizedIou(Fixtures.get(f, "a"), Fixtures.get(f, "b"));
      assertEquals(DataType.FLOAT32, got.getDataType());
      assertClose(Fixtures.get(f, "giou"), got, 1e-6f, "float32 giou");
      // identical boxes: 1; the far-away box: below 0
      assertEquals(1f, got.getFloat(0, 0), 1e-6f);
      assertEquals(-1f, got.get(":, 3").max().getFloat(), 0.1f);

      NDArray got64 = Boxes.generalizedIou(Fixtures.get(f, "a64"), Fixtures.get(f, "b64"));
      assertEquals(DataType.FLOAT64, got64.getDataType());
      double[] want64 = Fixtures.get(f, "giou64").toDoubleArray();
      double[] have64 = got64.toDoubleArray();
      for (int i = 0; i < want64.length; i++) {
        assertEquals(want64[i], have64[i], 1e-12, "float64 giou at " + i);
      }

      NDArray gotInts = Boxes.generalizedIou(Fixtures.get(f, "ints_a"), Fixtures.get(f, "ints_b"));
      assertEquals(DataType.FLOAT32, gotInts.getDataType(), "integer boxes divide in float32");
      assertClose(Fixtures.get(f, "giou_ints"), gotInts, 1e-6f, "int64 giou");
    }
  }

  @Test
  void emptySetsGiveEmptyMatrices() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray boxes = manager.create(new float[] {0, 0, 1, 1}, new Shape(1, 4));
      NDArray none = manager.zeros(new Shape(0, 4));
      assertEquals(new Shape(1, 0), Boxes.generalizedIou(boxes, none).getShape());
      assertEquals(new Shape(0, 1), Boxes.generalizedIou(none, boxes).getShape());
      assertThrows(
          IllegalArgumentException.class,
          () -> Boxes.generalizedIou(manager.zeros(new Shape(2, 3)), boxes));
    }
  }

  @Test
  void xywhConversionsMatchTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, FIXTURE);
      NDArray xywh = Fixtures.get(f, "xywh");
      assertClose(Fixtures.get(f, "xywh_to_xyxy"), Boxes.xywhToXyxy(xywh), 0f, "xywh -> xyxy");
      assertClose(
          Fixtures.get(f, "xyxy_to_xywh"),
          Boxes.xyxyToXywh(Fixtures.get(f, "a")),
          0f,
          "xyxy->xywh");
      // round trip on a batch axis
      NDArray batch = xywh.reshape(1, 5, 4);
      assertClose(batch, Boxes.xyxyToXywh(Boxes.xywhToXyxy(batch)), 1e-5f, "round trip");
    }
  }
}
