package dev.jdetect.core.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link MultiBoxPrior} against D2L's {@code multibox_prior} formula evaluated in torch ({@code
 * fixtures/anchor/multibox_prior.npz}), plus hand-computed boxes and counts. Absolute tolerance
 * 1e-5 (all values are relative coordinates).
 */
@ExtendWith(NDManagerExtension.class)
class MultiBoxPriorTest {

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/anchor/multibox_prior.npz");
  }

  @Test
  void matchesD2lFormula() {
    MultiBoxPrior d2l =
        MultiBoxPrior.builder().setSizes(0.75f, 0.5f, 0.25f).setRatios(1, 2, 0.5f).build();
    assertEquals(5, d2l.numAnchorsPerLocation());
    NDArray a = d2l.generate(manager, 5, 7);
    assertEquals(new Shape(5 * 7 * 5, 4), a.getShape());
    assertClose(Fixtures.get(fx, "d2l_5x7"), a);

    MultiBoxPrior tiny =
        MultiBoxPrior.builder().setSizes(0.2f, 0.272f).setRatios(1, 2, 0.5f).build();
    assertEquals(4, tiny.numAnchorsPerLocation());
    assertClose(Fixtures.get(fx, "tinyssd_4x4"), tiny.generate(manager, 4, 4));

    MultiBoxPrior one = MultiBoxPrior.builder().setSizes(0.4f).setRatios(1.5f).build();
    assertEquals(1, one.numAnchorsPerLocation());
    assertClose(Fixtures.get(fx, "single_3x2"), one.generate(manager, 3, 2));
  }

  @Test
  void countsAreSizesPlusRatiosMinusOne() {
    for (int n = 1; n <= 4; n++) {
      for (int m = 1; m <= 3; m++) {
        float[] sizes = new float[n];
        float[] ratios = new float[m];
        for (int i = 0; i < n; i++) {
          sizes[i] = 0.1f * (i + 1);
        }
        for (int j = 0; j < m; j++) {
          ratios[j] = j + 1;
        }
        MultiBoxPrior p = MultiBoxPrior.builder().setSizes(sizes).setRatios(ratios).build();
        assertEquals(n + m - 1, p.numAnchorsPerLocation());
        assertEquals(new Shape(2 * 3 * (n + m - 1), 4), p.generate(manager, 2, 3).getShape());
      }
    }
  }

  @Test
  void handComputedBoxes() {
    // 1x1 map, size 0.5, ratio 1: a centred half-size box.
    MultiBoxPrior p = MultiBoxPrior.builder().setSizes(0.5f).setRatios(1f).build();
    assertArrayEquals(
        new float[] {0.25f, 0.25f, 0.75f, 0.75f}, p.generate(manager, 1, 1).toFloatArray());
    // 2x4 map: widths are scaled by H / W = 0.5; pixel (row 1, col 2) has centre (0.625, 0.75).
    // Boxes: (0.4, r=1) then (0.4, r=4): w = 0.4 * 2 * 0.5 = 0.4, h = 0.4 / 2 = 0.2.
    MultiBoxPrior q = MultiBoxPrior.builder().setSizes(0.4f).setRatios(1f, 4f).build();
    NDArray boxes = q.generate(manager, 2, 4);
    int first = (1 * 4 + 2) * 2;
    assertArrayEquals(
        new float[] {0.525f, 0.55f, 0.725f, 0.95f}, boxes.get(first).toFloatArray(), 1e-6f);
    assertArrayEquals(
        new float[] {0.425f, 0.65f, 0.825f, 0.85f}, boxes.get(first + 1).toFloatArray(), 1e-6f);
  }

  @Test
  void badInputIsRejected() {
    MultiBoxPrior p = MultiBoxPrior.builder().setSizes(0.2f).setRatios(1f).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> p.generate(manager, 0, 4));
    assertTrue(e.getMessage().contains("height=0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> p.generate(manager, 4, -1));
    assertThrows(IllegalArgumentException.class, () -> MultiBoxPrior.builder().setSizes());
    assertThrows(IllegalArgumentException.class, () -> MultiBoxPrior.builder().setRatios(1f, 0f));
    assertThrows(IllegalArgumentException.class, () -> MultiBoxPrior.builder().setSizes(Float.NaN));
    assertThrows(
        IllegalArgumentException.class, () -> MultiBoxPrior.builder().setSizes(0.2f).build());
  }

  private static void assertClose(NDArray expected, NDArray actual) {
    assertEquals(expected.getShape(), actual.getShape(), "shape");
    float[] e = expected.toFloatArray();
    float[] a = actual.toFloatArray();
    for (int i = 0; i < e.length; i++) {
      if (!(Math.abs(e[i] - a[i]) <= 1e-5)) {
        throw new AssertionError(
            "element " + i + " (box " + i / 4 + "): expected " + e[i] + " but was " + a[i]);
      }
    }
  }
}
