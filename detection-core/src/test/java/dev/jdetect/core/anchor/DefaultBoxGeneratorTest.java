package dev.jdetect.core.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link DefaultBoxGenerator} against torchvision 0.14.1 ({@code
 * fixtures/anchor/default_box_generator.npz}; configurations mirror {@code
 * src/fixtures/gen_core_box_anchor.py}). Relative boxes are compared with an absolute tolerance of
 * 1e-5, pixel boxes (up to ~500) with 1e-5 absolute or 1e-6 relative, whichever is larger.
 */
@ExtendWith(NDManagerExtension.class)
class DefaultBoxGeneratorTest {

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/anchor/default_box_generator.npz");
  }

  private NDArray fx(String name) {
    return Fixtures.get(fx, name);
  }

  private static List<Shape> squares(int... sizes) {
    List<Shape> out = new ArrayList<>();
    for (int s : sizes) {
      out.add(new Shape(s, s));
    }
    return out;
  }

  private static List<float[]> repeat(float[] ratios, int levels) {
    return Collections.nCopies(levels, ratios);
  }

  @Test
  void ssd300MatchesTorchvision() {
    DefaultBoxGenerator gen = DefaultBoxGenerator.ssd300();
    assertArrayEquals(new int[] {4, 6, 6, 6, 4, 4}, gen.numAnchorsPerLocation());
    List<Shape> grids = squares(38, 19, 10, 5, 3, 1);
    NDArray boxes = gen.generate(manager, grids, 300, 300);
    assertEquals(new Shape(8732, 4), boxes.getShape());
    assertEquals(DataType.FLOAT32, boxes.getDataType());
    assertClose(fx("ssd300_xyxy"), boxes);
    assertClose(fx("ssd300_cxcywh"), gen.generateRelativeCxcywh(manager, grids, 300, 300));
    // Hand check: first box centre 0.5 / 37.5 * 300 = 4 px, side 0.07 * 300 = 21 px.
    assertArrayEquals(new float[] {-6.5f, -6.5f, 14.5f, 14.5f}, boxes.get(0).toFloatArray(), 1e-4f);
    // The (N, C, H, W) form of the shapes works too.
    List<Shape> nchw = new ArrayList<>();
    for (Shape s : grids) {
      nchw.add(new Shape(2, 16, s.get(0), s.get(1)));
    }
    assertClose(fx("ssd300_xyxy"), gen.generate(manager, nchw, 300, 300));
  }

  @Test
  void linearScalesWithoutStepsMatchTorchvision() {
    DefaultBoxGenerator gen =
        DefaultBoxGenerator.builder()
            .setAspectRatios(repeat(new float[] {2, 3}, 6))
            .optMinRatio(0.2)
            .optMaxRatio(0.95)
            .build();
    assertFalse(gen.hasSteps());
    double[] scales = gen.getScales();
    float[] expected = fx("lite_scales").toFloatArray();
    assertEquals(expected.length, scales.length);
    for (int i = 0; i < scales.length; i++) {
      assertEquals(expected[i], (float) scales[i], "scale " + i);
    }
    List<Shape> grids = squares(20, 10, 5, 3, 2, 1);
    assertClose(fx("lite_xyxy"), gen.generate(manager, grids, 320, 320));
    assertClose(fx("lite_cxcywh"), gen.generateRelativeCxcywh(manager, grids));
    assertClose(fx("lite_cxcywh"), gen.generateRelativeCxcywh(manager, grids, 320, 320));
  }

  @Test
  void singleLevelNonSquareWithoutClipMatchesTorchvision() {
    DefaultBoxGenerator gen =
        DefaultBoxGenerator.builder()
            .setAspectRatios(List.of(new float[] {2, 3}))
            .optClip(false)
            .build();
    assertArrayEquals(new double[] {0.15, 0.9}, gen.getScales());
    List<Shape> grid = List.of(new Shape(6, 8));
    assertClose(fx("single_xyxy"), gen.generate(manager, grid, 96, 128));
    assertClose(fx("single_cxcywh"), gen.generateRelativeCxcywh(manager, grid));
  }

  @Test
  void stepsOnNonSquareImageWithClipMatchTorchvision() {
    DefaultBoxGenerator.Builder b =
        DefaultBoxGenerator.builder()
            .setAspectRatios(List.of(new float[] {2}, new float[] {2, 3}))
            .optScales(0.3, 0.8, 1.3)
            .optSteps(16, 32);
    DefaultBoxGenerator gen = b.build();
    List<Shape> grids = List.of(new Shape(8, 12), new Shape(4, 6));
    assertClose(fx("steps_xyxy"), gen.generate(manager, grids, 128, 192));
    NDArray rel = gen.generateRelativeCxcywh(manager, grids, 128, 192);
    assertClose(fx("steps_cxcywh"), rel);
    // clip bounds the relative sizes by 1; without it sqrt(0.8 * 1.3) and 0.8 * sqrt(3) exceed 1.
    assertEquals(1f, rel.get(":, 2:").max().getFloat());
    NDArray unclipped = b.optClip(false).build().generateRelativeCxcywh(manager, grids, 128, 192);
    assertEquals(0.8 * Math.sqrt(3), unclipped.get(":, 2:").max().getFloat(), 1e-6);
  }

  @Test
  void floatScalesReadAsDecimals() {
    DefaultBoxGenerator gen =
        DefaultBoxGenerator.builder()
            .setAspectRatios(List.of(new float[] {2}, new float[] {2, 3}))
            .optScales(new float[] {0.3f, 0.8f, 1.3f})
            .optSteps(16, 32)
            .build();
    assertArrayEquals(new double[] {0.3, 0.8, 1.3}, gen.getScales());
    List<Shape> grids = List.of(new Shape(8, 12), new Shape(4, 6));
    assertClose(fx("steps_xyxy"), gen.generate(manager, grids, 128, 192));
  }

  @Test
  void relativeWithoutImageSizeNeedsNoSteps() {
    DefaultBoxGenerator gen = DefaultBoxGenerator.ssd300();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> gen.generateRelativeCxcywh(manager, squares(38, 19, 10, 5, 3, 1)));
    assertTrue(e.getMessage().contains("steps"), e.getMessage());
  }

  @Test
  void badInputIsRejected() {
    DefaultBoxGenerator gen = DefaultBoxGenerator.ssd300();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> gen.generate(manager, squares(38, 19), 300, 300));
    assertTrue(e.getMessage().contains("one shape per level (6)"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> gen.generate(manager, squares(38, 19, 10, 5, 3, 0), 300, 300));
    assertThrows(
        IllegalArgumentException.class,
        () -> gen.generate(manager, squares(38, 19, 10, 5, 3, 1), 0, 300));
    assertThrows(IllegalArgumentException.class, () -> DefaultBoxGenerator.builder().build());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                DefaultBoxGenerator.builder()
                    .setAspectRatios(repeat(new float[] {2}, 3))
                    .optSteps(8, 16)
                    .build());
    assertTrue(e.getMessage().contains("steps"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            DefaultBoxGenerator.builder()
                .setAspectRatios(repeat(new float[] {2}, 3))
                .optScales(0.1, 0.2, 0.3)
                .build());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            DefaultBoxGenerator.builder()
                .setAspectRatios(repeat(new float[] {2}, 2))
                .optMinRatio(0.9)
                .optMaxRatio(0.2)
                .build());
    assertThrows(
        IllegalArgumentException.class,
        () -> DefaultBoxGenerator.builder().setAspectRatios(List.of(new float[] {-2})));
    assertThrows(
        IllegalArgumentException.class, () -> DefaultBoxGenerator.builder().optSteps(8, -1));
    assertThrows(
        IllegalArgumentException.class,
        () -> DefaultBoxGenerator.builder().optScales(0.1, Double.NaN));
  }

  private static void assertClose(NDArray expected, NDArray actual) {
    assertEquals(expected.getShape(), actual.getShape(), "shape");
    float[] e = expected.toFloatArray();
    float[] a = actual.toFloatArray();
    for (int i = 0; i < e.length; i++) {
      double tol = Math.max(1e-5, 1e-6 * Math.abs(e[i]));
      if (!(Math.abs(e[i] - a[i]) <= tol)) {
        throw new AssertionError(
            "element " + i + " (box " + i / 4 + "): expected " + e[i] + " but was " + a[i]);
      }
    }
  }
}
