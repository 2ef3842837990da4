package dev.jdetect.core.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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
 * {@link AnchorGenerator} against torchvision 0.14.1 ({@code fixtures/anchor/anchor_generator.npz};
 * the configurations below mirror {@code src/fixtures/gen_core_box_anchor.py}). Anchors are
 * compared with an absolute tolerance of 1e-5 (they are in fact bit-identical).
 */
@ExtendWith(NDManagerExtension.class)
class AnchorGeneratorTest {

  private static final float[] R3 = {0.5f, 1f, 2f};

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/anchor/anchor_generator.npz");
  }

  private NDArray fx(String name) {
    return Fixtures.get(fx, name);
  }

  private static List<Shape> grids(long[][] hw) {
    List<Shape> out = new ArrayList<>();
    for (long[] g : hw) {
      out.add(new Shape(g[0], g[1]));
    }
    return out;
  }

  private static AnchorGenerator fpn() {
    return AnchorGenerator.builder()
        .optSizes(
            List.of(
                new float[] {32},
                new float[] {64},
                new float[] {128},
                new float[] {256},
                new float[] {512}))
        .optAspectRatios(List.of(R3))
        .build();
  }

  @Test
  void defaultSingleLevelMatchesTorchvision() {
    AnchorGenerator gen = AnchorGenerator.builder().build();
    assertArrayEquals(new int[] {9}, gen.numAnchorsPerLocation());
    NDArray anchors = gen.generate(manager, List.of(new Shape(13, 19)), 200, 300);
    assertEquals(new Shape(13 * 19 * 9, 4), anchors.getShape());
    assertEquals(DataType.FLOAT32, anchors.getDataType());
    assertClose(fx("cfg0_anchors"), anchors);
    assertClose(fx("cfg0_cell_anchors"), gen.cellAnchors(manager, 0));
  }

  @Test
  void fpnFiveLevelsMatchTorchvision() {
    AnchorGenerator gen = fpn();
    assertArrayEquals(new int[] {3, 3, 3, 3, 3}, gen.numAnchorsPerLocation());
    List<Shape> g1 = grids(new long[][] {{32, 40}, {16, 20}, {8, 10}, {4, 5}, {2, 3}});
    assertClose(fx("cfg1_anchors"), gen.generate(manager, g1, 128, 160));
    List<NDArray> perLevel = gen.generatePerLevel(manager, g1, 128, 160);
    long[] counts = fx("cfg1_counts").toLongArray();
    for (int l = 0; l < counts.length; l++) {
      assertEquals(new Shape(counts[l], 4), perLevel.get(l).getShape());
    }
    assertClose(fx("cfg1_anchors"), NDArrays.concat(new NDList(perLevel), 0));

    // Grids that do not divide the image: strides 96/24=4, 96/12=8, 96/7=13, 96/4=24, 96/2=48.
    List<Shape> g2 = grids(new long[][] {{24, 24}, {12, 12}, {7, 7}, {4, 4}, {2, 2}});
    assertClose(fx("cfg2_anchors"), gen.generate(manager, g2, 96, 96));
  }

  @Test
  void perLevelSizesAndRatiosMatchTorchvision() {
    AnchorGenerator gen =
        AnchorGenerator.builder()
            .optSizes(
                List.of(new float[] {32, 40, 50}, new float[] {25, 27}, new float[] {64, 80, 101}))
            .optAspectRatios(List.of(R3, new float[] {1f}, new float[] {0.25f, 0.5f, 1f, 2f}))
            .build();
    assertArrayEquals(
        fx("cfg3_num_per_location").toType(DataType.INT32, false).toIntArray(),
        gen.numAnchorsPerLocation());
    assertArrayEquals(new int[] {9, 2, 12}, gen.numAnchorsPerLocation());
    List<Shape> g = grids(new long[][] {{8, 12}, {4, 6}, {2, 3}});
    assertClose(fx("cfg3_anchors"), gen.generate(manager, g, 64, 100));
    // Half-widths 12.5 and 13.5 round half to even, as torch.round does.
    assertArrayEquals(
        new float[] {-12, -12, 12, 12, -14, -14, 14, 14},
        gen.cellAnchors(manager, 1).toFloatArray());

    AnchorGenerator mobile =
        AnchorGenerator.builder().optSizes(List.of(new float[] {32, 64, 128, 256, 512})).build();
    assertClose(fx("cfg4_anchors"), mobile.generate(manager, List.of(new Shape(3, 4)), 90, 120));
  }

  @Test
  void classicFormMatchesReferenceAndHandValues() {
    AnchorGenerator gen = AnchorGenerator.classic();
    assertArrayEquals(new int[] {9}, gen.numAnchorsPerLocation());
    NDArray anchors = gen.generate(manager, List.of(new Shape(1, 512, 10, 14)), 160, 224);
    assertEquals(new Shape(10 * 14 * 9, 4), anchors.getShape());
    assertClose(fx("classic_anchors"), anchors);
    // First cell centre is (8, 8). Ratio 0.5, scale 8: 128 px anchor, w = 128*sqrt(2), h = w/2.
    float w = 128f * (float) Math.sqrt(2.0);
    assertArrayEquals(
        new float[] {8 - w / 2, 8 - w / 4, 8 + w / 2, 8 + w / 4},
        anchors.get(0).toFloatArray(),
        1e-3f);
    // Ratio 1, scale 16 (index 4) is the 256 px square; last cell centre is (8 + 13*16, 8 + 9*16).
    assertArrayEquals(new float[] {-120, -120, 136, 136}, anchors.get(4).toFloatArray(), 1e-4f);
    assertArrayEquals(
        new float[] {216 - 128, 152 - 128, 216 + 128, 152 + 128},
        anchors.get(10 * 14 * 9 - 5).toFloatArray(),
        1e-4f);
    // The fixed stride ignores the image size.
    NDArray other = gen.generate(manager, List.of(new Shape(10, 14)), 150, 220);
    assertClose(anchors, other);
  }

  @Test
  void handComputedTorchvisionBaseAnchors() {
    AnchorGenerator gen = AnchorGenerator.builder().build();
    // ratio 0.5 / size 128: w = 128 * sqrt(2) = 181.02 -> +-90.51 -> 91; h -> +-45.25 -> 45.
    float[] cell = gen.cellAnchors(manager, 0).toFloatArray();
    assertArrayEquals(new float[] {-91, -45, 91, 45}, java.util.Arrays.copyOfRange(cell, 0, 4));
    assertArrayEquals(new float[] {-64, -64, 64, 64}, java.util.Arrays.copyOfRange(cell, 12, 16));
    // Second cell along x is shifted by the stride (300 / 19 = 15) in x only.
    NDArray anchors = gen.generate(manager, List.of(new Shape(13, 19)), 200, 300);
    assertArrayEquals(new float[] {-76, -45, 106, 45}, anchors.get(9).toFloatArray());
    // First anchor of the second row is shifted by 200 / 13 = 15 in y.
    assertArrayEquals(new float[] {-91, -30, 91, 60}, anchors.get(19 * 9).toFloatArray());
  }

  @Test
  void unroundedAndOffsetOptions() {
    AnchorGenerator gen =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {10}))
            .optAspectRatios(List.of(new float[] {1f}))
            .optRoundBase(false)
            .optCenterOffset(0.5f)
            .optStrides(4)
            .build();
    NDArray a = gen.generate(manager, List.of(new Shape(2, 3)), 999, 999);
    assertArrayEquals(
        new float[] {
          -3, -3, 7, 7, 1, -3, 11, 7, 5, -3, 15, 7, -3, 1, 7, 11, 1, 1, 11, 11, 5, 1, 15, 11
        },
        a.toFloatArray());
  }

  @Test
  void badInputIsRejected() {
    AnchorGenerator gen = fpn();
    List<Shape> one = List.of(new Shape(4, 4));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> gen.generate(manager, one, 64, 64));
    assertTrue(e.getMessage().contains("one shape per level (5)"), e.getMessage());
    AnchorGenerator single = AnchorGenerator.builder().build();
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> single.generate(manager, List.of(new Shape(0, 4)), 64, 64));
    assertTrue(e.getMessage().contains("(0, 4)"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> single.generate(manager, List.of(new Shape(128, 4)), 64, 64));
    assertThrows(
        IllegalArgumentException.class,
        () -> single.generate(manager, List.of(new Shape(4)), 64, 64));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> single.generate(manager, List.of(new Shape(4, 4)), -64, 64));
    assertTrue(e.getMessage().contains("imageHeight=-64"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> single.generatePerLevel(manager, null, 8, 8));
    assertThrows(IllegalArgumentException.class, () -> single.cellAnchors(manager, 1));

    assertThrows(
        IllegalArgumentException.class,
        () -> AnchorGenerator.builder().optSizes(Collections.emptyList()));
    assertThrows(
        IllegalArgumentException.class,
        () -> AnchorGenerator.builder().optSizes(List.of(new float[] {32, -1})));
    assertThrows(
        IllegalArgumentException.class,
        () -> AnchorGenerator.builder().optAspectRatios(List.of(new float[] {Float.NaN})));
    assertThrows(IllegalArgumentException.class, () -> AnchorGenerator.builder().optStrides(16, 0));
    assertThrows(
        IllegalArgumentException.class, () -> AnchorGenerator.builder().optCenterOffset(1.5f));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                AnchorGenerator.builder()
                    .optSizes(List.of(new float[] {32}, new float[] {64}, new float[] {128}))
                    .optAspectRatios(List.of(R3, R3))
                    .build());
    assertTrue(e.getMessage().contains("aspectRatios"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> AnchorGenerator.builder().optStrides(8, 16).build());
  }

  private static void assertClose(NDArray expected, NDArray actual) {
    assertEquals(expected.getShape(), actual.getShape(), "shape");
    float[] e = expected.toFloatArray();
    float[] a = actual.toFloatArray();
    for (int i = 0; i < e.length; i++) {
      if (!(Math.abs(e[i] - a[i]) <= 1e-5)) {
        throw new AssertionError(
            "element " + i + " (anchor " + i / 4 + "): expected " + e[i] + " but was " + a[i]);
      }
    }
  }
}
