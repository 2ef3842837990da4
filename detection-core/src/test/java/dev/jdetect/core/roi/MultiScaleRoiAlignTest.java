package dev.jdetect.core.roi;

import static dev.jdetect.core.roi.RoiTestSupport.TOL;
import static dev.jdetect.core.roi.RoiTestSupport.assertClose;
import static dev.jdetect.core.roi.RoiTestSupport.assertLongs;
import static dev.jdetect.core.roi.RoiTestSupport.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link MultiScaleRoiAlign} against torchvision 0.14.1 ({@code fixtures/roi/multiscale.npz}: a
 * 4-level pyramid (strides 4..32) for two images of different sizes, boxes spanning every level
 * incl. exact level boundaries (sqrt(area) = 224 and 112) and boxes beyond the top level, and the
 * same boxes on a 2-level subset), plus hand-computed and bad-input cases.
 */
@ExtendWith(NDManagerExtension.class)
class MultiScaleRoiAlignTest {

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/roi/multiscale.npz");
  }

  private List<NDArray> features(int levels) {
    List<NDArray> f = new ArrayList<>();
    for (int i = 0; i < levels; i++) {
      f.add(Fixtures.get(fx, "feat" + i));
    }
    return f;
  }

  private List<NDArray> boxes() {
    return Arrays.asList(Fixtures.get(fx, "boxes0"), Fixtures.get(fx, "boxes1"));
  }

  private List<int[]> imageSizes() {
    long[] s = Fixtures.get(fx, "image_shapes").toLongArray();
    return Arrays.asList(new int[] {(int) s[0], (int) s[1]}, new int[] {(int) s[2], (int) s[3]});
  }

  @Test
  void matchesTorchvisionOnFourAndTwoLevels() {
    for (int levels : new int[] {4, 2}) {
      String tag = "l" + levels + "_";
      for (RoiAlign.Backend backend : RoiAlign.Backend.values()) {
        MultiScaleRoiAlign pooler = MultiScaleRoiAlign.builder().optBackend(backend).build();
        assertArrayEquals(
            Fixtures.get(fx, tag + "scales").toFloatArray(),
            pooler.scales(features(levels), imageSizes()),
            tag + "scales");
        assertLongs(
            Fixtures.get(fx, tag + "levels").toLongArray(),
            pooler.levels(boxes(), features(levels), imageSizes()),
            tag + "levels");
        NDArray out = pooler.apply(features(levels), boxes(), imageSizes());
        assertClose(Fixtures.get(fx, tag + "out"), out, TOL, tag + "out " + backend);
      }
    }
    // the fixture really spans all four levels
    long[] lv = Fixtures.get(fx, "l4_levels").toLongArray();
    for (long l = 0; l < 4; l++) {
      final long level = l;
      assertTrue(Arrays.stream(lv).anyMatch(v -> v == level), "level " + l + " unused");
    }
  }

  @Test
  void handComputedLevelsAndScales() {
    MultiScaleRoiAlign pooler = MultiScaleRoiAlign.builder().build();
    List<NDArray> feats =
        Arrays.asList(
            manager.zeros(new Shape(1, 1, 200, 200)),
            manager.zeros(new Shape(1, 1, 100, 100)),
            manager.zeros(new Shape(1, 1, 50, 50)),
            manager.zeros(new Shape(1, 1, 25, 25)));
    List<int[]> sizes = List.<int[]>of(new int[] {800, 800});
    assertArrayEquals(new float[] {0.25f, 0.125f, 0.0625f, 0.03125f}, pooler.scales(feats, sizes));
    // sqrt(area) 224 -> level 4 (index 2); 112 -> 3 (1); 111 -> 2 (0); 448 -> 5 (3);
    // 10 -> clamped to 2 (0); 2000 -> clamped to 5 (3)
    NDArray boxes =
        manager.create(
            new float[] {
              0, 0, 224, 224, 0, 0, 112, 112, 0, 0, 111, 111, 0, 0, 448, 448, 0, 0, 10, 10, 0, 0,
              2000, 2000
            },
            new Shape(6, 4));
    assertLongs(
        new long[] {2, 1, 0, 3, 0, 3}, pooler.levels(List.of(boxes), feats, sizes), "levels");
  }

  @Test
  void equalsRoiAlignOnTheChosenLevelAndIsDifferentiable() {
    List<NDArray> feats = features(4);
    MultiScaleRoiAlign pooler = MultiScaleRoiAlign.builder().build();
    float[] scales = pooler.scales(feats, imageSizes());
    long[] lv = pooler.levels(boxes(), feats, imageSizes()).toLongArray();
    NDArray rois = Rois.fromBoxes(boxes());
    NDArray all = pooler.apply(feats, boxes(), imageSizes());
    for (int i = 0; i < lv.length; i++) {
      RoiAlign single =
          RoiAlign.builder()
              .optOutputSize(7, 7)
              .optSamplingRatio(2)
              .optSpatialScale(scales[(int) lv[i]])
              .build();
      NDArray expected = single.apply(feats.get((int) lv[i]), rois.get(i + ":" + (i + 1)));
      assertClose(expected, all.get(i + ":" + (i + 1)), 0, "roi " + i);
    }
    try (NDManager sub = manager.newSubManager()) {
      List<NDArray> xs = new ArrayList<>();
      for (NDArray f : feats) {
        NDArray x = f.duplicate();
        x.attach(sub);
        x.setRequiresGradient(true);
        xs.add(x);
      }
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = pooler.apply(xs, boxes(), imageSizes());
        assertClose(all, out, 1e-6, "differentiable path forward");
        gc.backward(out.sum());
      }
      // d(sum)/d(features) per level: every in-range sample adds its weights (<= 1 per output)
      for (int l = 0; l < 4; l++) {
        final int level = l;
        long count = Arrays.stream(lv).filter(v -> v == level).count();
        float total = xs.get(l).getGradient().sum().getFloat();
        // RoIs partly outside the map lose samples, so the total is at most count * 2 * 49
        assertTrue(total <= count * 2 * 49 + 1e-3, "level " + l + " grad sum " + total);
        assertEquals(count == 0, total == 0f, "level " + l + " grad sum " + total);
      }
    }
  }

  @Test
  void nonConsecutiveScalesBehaveLikeTorchvision() {
    // scales 1/4 and 1/16: k_min 2, k_max 4, so level index 2 has no map and pools zeros, and
    // level index 1 (k = 3) reads the second map with its own scale 1/16, as torchvision does.
    List<NDArray> feats =
        Arrays.asList(
            manager.randomNormal(new Shape(1, 2, 64, 64)),
            manager.randomNormal(new Shape(1, 2, 16, 16)));
    List<int[]> sizes = List.<int[]>of(new int[] {256, 256});
    NDArray boxes =
        manager.create(
            new float[] {10, 10, 60, 60, 20, 20, 132, 132, 0, 0, 224, 224}, new Shape(3, 4));
    MultiScaleRoiAlign pooler = MultiScaleRoiAlign.builder().build();
    assertLongs(new long[] {0, 1, 2}, pooler.levels(boxes, feats, sizes), "levels");
    NDArray out = pooler.apply(feats, List.of(boxes), sizes);
    assertEquals(new Shape(3, 2, 7, 7), out.getShape());
    assertEquals(0f, out.get(2).abs().sum().getFloat());
    RoiAlign second = RoiAlign.builder().optSamplingRatio(2).optSpatialScale(1f / 16).build();
    NDArray roi = manager.create(new float[] {0, 20, 20, 132, 132}, new Shape(1, 5));
    assertClose(second.apply(feats.get(1), roi), out.get("1:2"), 0, "level 3 from map 1");
  }

  @Test
  void emptyBoxesGiveEmptyOutput() {
    MultiScaleRoiAlign pooler = MultiScaleRoiAlign.builder().build();
    List<NDArray> empty =
        Arrays.asList(manager.zeros(new Shape(0, 4)), manager.zeros(new Shape(0, 4)));
    NDArray out = pooler.apply(features(4), empty, imageSizes());
    assertEquals(new Shape(0, 2, 7, 7), out.getShape());
    assertEquals(new Shape(0), pooler.levels(empty, features(4), imageSizes()).getShape());
  }

  @Test
  void badInputThrowsIllegalArgument() {
    MultiScaleRoiAlign pooler = MultiScaleRoiAlign.builder().build();
    assertMessage(() -> pooler.apply(List.of(), boxes(), imageSizes()), "features");
    assertMessage(() -> pooler.apply(features(4), boxes(), List.of()), "imageSizes");
    assertMessage(
        () -> pooler.apply(features(4), boxes(), List.<int[]>of(new int[] {0, 5})),
        "imageSizes[0]",
        "[0, 5]");
    assertMessage(
        () -> pooler.apply(features(4), List.of(Fixtures.get(fx, "boxes0")), imageSizes()),
        "boxesPerImage",
        "2");
    assertMessage(
        () ->
            pooler.apply(
                Arrays.asList(Fixtures.get(fx, "feat0"), manager.zeros(new Shape(2, 3, 4, 4))),
                boxes(),
                imageSizes()),
        "features[1]");
    assertMessage(() -> MultiScaleRoiAlign.builder().optCanonicalScale(0), "canonicalScale");
  }
}
