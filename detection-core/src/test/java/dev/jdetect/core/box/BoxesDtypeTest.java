package dev.jdetect.core.box;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.NDManagerExtension;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The dtypes of {@link Boxes#area} and {@link Boxes#iou}, as torchvision 0.14.1's {@code box_area}
 * and {@code box_iou} (values checked with torchvision): narrow types are widened before the
 * multiplications (int8/uint8 to int32, float16 to float32), and int16 is refused before it reaches
 * the engine.
 */
@ExtendWith(NDManagerExtension.class)
class BoxesDtypeTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  private NDArray box(DataType type, int... v) {
    return manager.create(v, new Shape(v.length / 4, 4)).toType(type, false);
  }

  @Test
  void areaOfNarrowIntegersDoesNotWrap() {
    // uint8/int8 products wrapped: 100 * 100 = 10000 = 16 (mod 256)
    for (DataType t : new DataType[] {DataType.UINT8, DataType.INT8}) {
      NDArray a = Boxes.area(box(t, 0, 0, 100, 100));
      assertEquals(DataType.INT32, a.getDataType(), t.toString());
      assertArrayEquals(new int[] {10000}, a.toIntArray(), t.toString());
    }
  }

  @Test
  void areaAndIouOfFloat16DoNotOverflow() {
    // float16 overflowed: 300 * 300 = Inf, and IoU = Inf / Inf = NaN
    NDArray a = Boxes.area(box(DataType.FLOAT16, 0, 0, 300, 300));
    assertEquals(DataType.FLOAT32, a.getDataType());
    assertArrayEquals(new float[] {90000f}, a.toFloatArray());
    NDArray iou =
        Boxes.iou(
            box(DataType.FLOAT16, 0, 0, 300, 300),
            box(DataType.FLOAT16, 0, 0, 300, 300, 0, 0, 150, 300));
    assertArrayEquals(new float[] {1f, 0.5f}, iou.toFloatArray());
  }

  @Test
  void iouOfIntegerBoxesIsFloat32() {
    NDArray iou =
        Boxes.iou(
            box(DataType.UINT8, 0, 0, 100, 100),
            box(DataType.UINT8, 0, 0, 50, 100, 200, 200, 250, 250));
    assertEquals(DataType.FLOAT32, iou.getDataType());
    assertArrayEquals(new float[] {0.5f, 0f}, iou.toFloatArray());
    NDArray big =
        Boxes.iou(box(DataType.INT32, 0, 0, 5000, 5000), box(DataType.INT32, 0, 0, 5000, 2500));
    assertArrayEquals(new float[] {0.5f}, big.toFloatArray());
  }

  @Test
  void int16IsRefusedBeforeTheEngine() {
    // DJL's PyTorch engine aborts the JVM on int16 arrays, so a stand-in carries the dtype.
    NDArray int16 = stub(DataType.INT16, new Shape(2, 4));
    for (Runnable op :
        new Runnable[] {
          () -> Boxes.area(int16),
          () -> Boxes.iou(int16, int16),
          () -> Boxes.clip(int16, 10, 10),
          () -> Boxes.xyxyToCxcywh(int16),
          () -> Boxes.checkBoxes(int16, "boxes")
        }) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op::run);
      assertTrue(e.getMessage().contains("int16"), e.getMessage());
    }
  }

  /** An NDArray that only knows its dtype, shape and device; any other call fails the test. */
  static NDArray stub(DataType type, Shape shape) {
    return (NDArray)
        Proxy.newProxyInstance(
            NDArray.class.getClassLoader(),
            new Class<?>[] {NDArray.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "getDataType":
                  return type;
                case "getShape":
                  return shape;
                case "getDevice":
                  return Device.cpu();
                case "toString":
                  return "stub " + type + " " + shape;
                default:
                  throw new AssertionError(method.getName() + " reached the array");
              }
            });
  }
}
