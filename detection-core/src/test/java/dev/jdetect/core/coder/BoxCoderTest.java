package dev.jdetect.core.coder;

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
 * {@link BoxCoder} against torchvision 0.14.1's {@code BoxCoder} ({@code
 * fixtures/coder/box_coder.npz}). Tolerance: absolute 1e-5, or relative 1e-6 where values are large
 * — weighted deltas reach ~10^3 and decoded boxes with clamped {@code exp} reach ~10^4 pixels,
 * where one float32 ulp alone is ~10^-3 (and torch 1.13's and 2.7's {@code exp} may differ in the
 * last bit). For decoded boxes the scale is the box's largest coordinate.
 */
@ExtendWith(NDManagerExtension.class)
class BoxCoderTest {

  private static final double ABS = 1e-5;
  private static final double REL = 1e-6;

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/coder/box_coder.npz");
  }

  private NDArray fx(String name) {
    return Fixtures.get(fx, name);
  }

  private static BoxCoder coder(String tag) {
    return "w1".equals(tag)
        ? BoxCoder.builder().build()
        : BoxCoder.builder().optWeights(10f, 10f, 5f, 5f).build();
  }

  @Test
  void encodeMatchesTorchvision() {
    for (String tag : new String[] {"w1", "w10"}) {
      assertClose(fx("encode_" + tag), coder(tag).encode(fx("gt"), fx("anchors")), "encode " + tag);
    }
  }

  @Test
  void decodeMatchesTorchvisionIncludingClamp() {
    for (String tag : new String[] {"w1", "w10"}) {
      BoxCoder c = coder(tag);
      assertClose(fx("decode_" + tag), c.decode(fx("deltas"), fx("anchors")), tag);
      NDArray k3 = c.decode(fx("deltas_k3"), fx("anchors"));
      assertEquals(new Shape(48, 12), k3.getShape());
      assertClose(fx("decode_k3_" + tag), k3, tag + " K=3");
      NDArray batch = c.decode(fx("deltas_b"), fx("anchors"));
      assertEquals(new Shape(2, 48, 4), batch.getShape());
      assertClose(fx("decode_b_" + tag), batch, tag + " batch");
    }
  }

  @Test
  void decodeGradientMatchesTorchvision() {
    for (String tag : new String[] {"w1", "w10"}) {
      NDArray deltas = fx("deltas").duplicate();
      deltas.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray loss = coder(tag).decode(deltas, fx("anchors")).mul(fx("decode_grad_weight")).sum();
        gc.backward(loss);
      }
      assertClose(fx("decode_grad_" + tag), deltas.getGradient(), tag + " grad");
    }
  }

  @Test
  void clampLimitsWidthAndHeight() {
    // Row 3 of the fixture deltas has dw = 25, dh = 21: both far above log(1000/16).
    NDArray anchors = fx("anchors").get("3:4");
    NDArray deltas = fx("deltas").get("3:4");
    float[] a = anchors.toFloatArray();
    float[] box = BoxCoder.builder().build().decode(deltas, anchors).toFloatArray();
    assertEquals(62.5 * (a[2] - a[0]), box[2] - box[0], 1e-3 * (a[2] - a[0]));
    assertEquals(62.5 * (a[3] - a[1]), box[3] - box[1], 1e-3 * (a[3] - a[1]));
    // A custom clamp of 0 caps scaling at 1x.
    float[] capped =
        BoxCoder.builder().optBboxXformClip(0).build().decode(deltas, anchors).toFloatArray();
    assertEquals(a[2] - a[0], capped[2] - capped[0], 1e-3);
  }

  @Test
  void handComputedEncodeDecode() {
    NDArray anchor = manager.create(new float[] {0, 0, 10, 10}, new Shape(1, 4));
    NDArray gt = manager.create(new float[] {5, 5, 15, 25}, new Shape(1, 4));
    float ln2 = (float) Math.log(2);
    assertArrayEquals(
        new float[] {0.5f, 1f, 0f, ln2},
        BoxCoder.builder().build().encode(gt, anchor).toFloatArray(),
        1e-6f);
    BoxCoder ssd = BoxCoder.builder().optWeights(10f, 10f, 5f, 5f).build();
    NDArray enc = ssd.encode(gt, anchor);
    assertArrayEquals(new float[] {5f, 10f, 0f, 5 * ln2}, enc.toFloatArray(), 1e-5f);
    assertArrayEquals(new float[] {5, 5, 15, 25}, ssd.decode(enc, anchor).toFloatArray(), 1e-5f);
    // zero deltas give back the anchor
    assertArrayEquals(
        new float[] {0, 0, 10, 10},
        ssd.decode(manager.zeros(new Shape(1, 4)), anchor).toFloatArray(),
        0f);
  }

  @Test
  void roundTripRecoversBoxes() {
    for (String tag : new String[] {"w1", "w10"}) {
      BoxCoder c = coder(tag);
      NDArray back = c.decode(c.encode(fx("gt"), fx("anchors")), fx("anchors"));
      double[] e = fx("gt").toType(DataType.FLOAT64, false).toDoubleArray();
      double[] a = back.toType(DataType.FLOAT64, false).toDoubleArray();
      for (int i = 0; i < e.length; i++) {
        assertEquals(e[i], a[i], 1e-3, tag + " element " + i);
      }
    }
  }

  @Test
  void emptyInputsGiveEmptyOutputs() {
    NDArray empty = manager.zeros(new Shape(0, 4));
    BoxCoder c = BoxCoder.builder().build();
    assertEquals(new Shape(0, 4), c.encode(empty, empty).getShape());
    assertEquals(new Shape(0, 4), c.decode(empty, empty).getShape());
    assertEquals(new Shape(0, 8), c.decode(manager.zeros(new Shape(0, 8)), empty).getShape());
  }

  @Test
  void badInputIsRejected() {
    BoxCoder c = BoxCoder.builder().build();
    NDArray four = manager.zeros(new Shape(4, 4));
    NDArray three = manager.zeros(new Shape(3, 4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> c.encode(four, three));
    assertTrue(e.getMessage().contains("(4, 4)") && e.getMessage().contains("(3, 4)"));
    e =
        assertThrows(
            IllegalArgumentException.class, () -> c.encode(manager.zeros(new Shape(4, 5)), four));
    assertTrue(e.getMessage().contains("matchedGt"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> c.decode(manager.zeros(new Shape(4, 6)), four));
    assertTrue(
        e.getMessage().contains("deltas") && e.getMessage().contains("(4, 6)"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> c.decode(three, four));
    assertTrue(e.getMessage().contains("rows"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> c.decode(manager.zeros(new Shape(4)), four));
    assertThrows(
        IllegalArgumentException.class, () -> c.decode(four, manager.zeros(new Shape(4, 3))));
    assertThrows(IllegalArgumentException.class, () -> c.decode(null, four));
    assertThrows(
        IllegalArgumentException.class, () -> BoxCoder.builder().optWeights(1f, 0f, 1f, 1f));
    assertThrows(
        IllegalArgumentException.class, () -> BoxCoder.builder().optWeights(1f, 1f, Float.NaN, 1f));
    assertThrows(
        IllegalArgumentException.class, () -> BoxCoder.builder().optBboxXformClip(Double.NaN));
  }

  @Test
  void accessorsReportSettings() {
    BoxCoder c = BoxCoder.builder().optWeights(10f, 10f, 5f, 5f).build();
    assertArrayEquals(new float[] {10f, 10f, 5f, 5f}, c.getWeights());
    assertEquals(Math.log(1000.0 / 16), c.getBboxXformClip());
  }

  /**
   * Element-wise closeness: {@code |e - a| <= max(1e-5, 1e-6 * scale)}, where the scale is {@code
   * |e|} for deltas and, for decoded boxes, the largest coordinate magnitude of the box: {@code x1
   * = cx - w / 2} cancels, so its error follows the size of {@code w}, not of {@code x1}.
   */
  private static void assertClose(NDArray expected, NDArray actual, String what) {
    assertEquals(expected.getShape(), actual.getShape(), what + " shape");
    boolean perBox = !what.startsWith("encode") && !what.endsWith("grad");
    double[] e = expected.toType(DataType.FLOAT64, false).toDoubleArray();
    double[] a = actual.toType(DataType.FLOAT64, false).toDoubleArray();
    for (int i = 0; i < e.length; i++) {
      double scale = Math.abs(e[i]);
      if (perBox) {
        int start = i - i % 4;
        for (int j = start; j < start + 4; j++) {
          scale = Math.max(scale, Math.abs(e[j]));
        }
      }
      double tol = Math.max(ABS, REL * scale);
      if (!(Math.abs(e[i] - a[i]) <= tol)) {
        throw new AssertionError(
            what
                + " element "
                + i
                + ": expected "
                + e[i]
                + " but was "
                + a[i]
                + " (tol "
                + tol
                + ")");
      }
    }
  }
}
