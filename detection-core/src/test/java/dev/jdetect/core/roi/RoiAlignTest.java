package dev.jdetect.core.roi;

import static dev.jdetect.core.roi.RoiTestSupport.TOL;
import static dev.jdetect.core.roi.RoiTestSupport.assertClose;
import static dev.jdetect.core.roi.RoiTestSupport.assertMessage;
import static dev.jdetect.core.roi.RoiTestSupport.assertNonLeafGradient;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.core.roi.RoiAlign.Backend;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link RoiAlign} against torchvision 0.14.1 ({@code fixtures/roi/roi_align.npz} from {@code
 * src/fixtures/gen_core_nms_roi.py}: 12 configurations = spatial scale 1 / 0.5 / 0.25 x aligned x
 * sampling ratio 2 / adaptive, RoIs partly or fully outside the map, sub-pixel and zero-width RoIs;
 * forward output and the gradient of {@code sum(out * weights)} w.r.t. the input), both backends,
 * plus hand-computed and bad-input cases.
 */
@ExtendWith(NDManagerExtension.class)
class RoiAlignTest {

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/roi/roi_align.npz");
  }

  private RoiAlign fromParams(String prefix, Backend backend) {
    float[] p = Fixtures.get(fx, prefix + "params").toFloatArray();
    return RoiAlign.builder()
        .optSpatialScale(p[0])
        .optAligned(p[1] != 0)
        .optSamplingRatio((int) p[2])
        .optOutputSize((int) p[3], (int) p[4])
        .optBackend(backend)
        .build();
  }

  @Test
  void forwardMatchesTorchvisionOnBothBackends() {
    int configs = (int) Fixtures.get(fx, "num_configs").toLongArray()[0];
    assertEquals(12, configs);
    NDArray features = Fixtures.get(fx, "features");
    for (int c = 0; c < configs; c++) {
      String p = "c" + c + "_";
      NDArray rois = Fixtures.get(fx, p + "rois");
      for (Backend backend : Backend.values()) {
        NDArray out = fromParams(p, backend).apply(features, rois);
        assertClose(Fixtures.get(fx, p + "out"), out, TOL, "config " + c + " " + backend);
      }
    }
  }

  @Test
  void gradientMatchesTorchvision() {
    int configs = (int) Fixtures.get(fx, "num_configs").toLongArray()[0];
    for (int c = 0; c < configs; c++) {
      String p = "c" + c + "_";
      for (Backend backend : new Backend[] {Backend.AUTO, Backend.NDARRAY}) {
        try (NDManager sub = manager.newSubManager()) {
          NDArray x = Fixtures.get(fx, "features").duplicate();
          x.attach(sub);
          x.setRequiresGradient(true);
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray out = fromParams(p, backend).apply(x, Fixtures.get(fx, p + "rois"));
            assertClose(Fixtures.get(fx, p + "out"), out, TOL, "config " + c + " forward");
            gc.backward(out.mul(Fixtures.get(fx, p + "weights")).sum());
          }
          assertClose(
              Fixtures.get(fx, p + "grad"),
              x.getGradient(),
              TOL,
              "config " + c + " grad " + backend);
        }
      }
    }
  }

  /**
   * A backbone's feature map is not a leaf: it is an op's output inside the collector, and DJL's
   * {@code hasGradient()} says {@code false} for it. AUTO must still take the differentiable path,
   * or the gradient never reaches the backbone.
   */
  @Test
  void autoKeepsTheGradientOfNonLeafFeatures() {
    assertNonLeafGradient(manager, fx, (p, f, r) -> fromParams(p, Backend.AUTO).apply(f, r));
  }

  @Test
  void handComputedLinearRamp() {
    // f(y, x) = 4y + x is reproduced exactly by bilinear sampling, so each bin is f at its centre.
    float[] ramp = new float[16];
    for (int i = 0; i < 16; i++) {
      ramp[i] = i;
    }
    NDArray features = manager.create(ramp, new Shape(1, 1, 4, 4));
    NDArray rois = manager.create(new float[] {0, 0.5f, 0.5f, 2.5f, 2.5f}, new Shape(1, 5));
    for (Backend backend : Backend.values()) {
      RoiAlign op =
          RoiAlign.builder().optOutputSize(2, 2).optSamplingRatio(2).optBackend(backend).build();
      assertArrayEquals(
          new float[] {5, 6, 9, 10}, op.apply(features, rois).toFloatArray(), 1e-6f, "" + backend);
      // aligned: the RoI shifts by -0.5, bin centres move to (0.5, 0.5) .. (1.5, 1.5)
      RoiAlign alignedOp =
          RoiAlign.builder()
              .optOutputSize(2, 2)
              .optSamplingRatio(2)
              .optAligned(true)
              .optBackend(backend)
              .build();
      assertArrayEquals(
          new float[] {2.5f, 3.5f, 6.5f, 7.5f},
          alignedOp.apply(features, rois).toFloatArray(),
          1e-6f,
          "aligned " + backend);
      // spatial scale 0.5 with doubled coordinates gives the same answer
      RoiAlign halfScale =
          RoiAlign.builder()
              .optOutputSize(2, 2)
              .optSamplingRatio(2)
              .optSpatialScale(0.5f)
              .optBackend(backend)
              .build();
      NDArray doubled = manager.create(new float[] {0, 1, 1, 5, 5}, new Shape(1, 5));
      assertArrayEquals(
          new float[] {5, 6, 9, 10}, halfScale.apply(features, doubled).toFloatArray(), 1e-6f);
      // a RoI entirely below-right of the map (samples beyond H and W) pools zeros
      NDArray outside = manager.create(new float[] {0, 6, 6, 9, 9}, new Shape(1, 5));
      assertArrayEquals(new float[4], op.apply(features, outside).toFloatArray(), 0f);
    }
  }

  @Test
  void backendsAgreeOnLargerRandomInput() {
    Random rnd = new Random(11);
    int n = 2;
    int c = 24;
    int h = 19;
    int w = 23;
    float[] f = new float[n * c * h * w];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    NDArray features = manager.create(f, new Shape(n, c, h, w));
    int k = 90;
    float[] r = new float[5 * k];
    for (int i = 0; i < k; i++) {
      float x1 = rnd.nextFloat() * 100 - 10;
      float y1 = rnd.nextFloat() * 80 - 10;
      r[5 * i] = rnd.nextInt(n);
      r[5 * i + 1] = x1;
      r[5 * i + 2] = y1;
      r[5 * i + 3] = x1 + rnd.nextFloat() * 60;
      r[5 * i + 4] = y1 + rnd.nextFloat() * 60;
    }
    NDArray rois = manager.create(r, new Shape(k, 5));
    for (int sampling : new int[] {2, 0, 3}) {
      for (boolean aligned : new boolean[] {false, true}) {
        RoiAlign.Builder b =
            RoiAlign.builder()
                .optOutputSize(7, 5)
                .optSpatialScale(0.25f)
                .optSamplingRatio(sampling)
                .optAligned(aligned);
        NDArray java = b.optBackend(Backend.JAVA).build().apply(features, rois);
        NDArray nd = b.optBackend(Backend.NDARRAY).build().apply(features, rois);
        assertClose(nd, java, 2e-6, "sampling " + sampling + " aligned " + aligned);
        // a tiny sparse budget splits the NDARRAY path into many chunks of RoIs
        NDArray chunked = b.optSparseBudget(500).build().apply(features, rois);
        assertClose(nd, chunked, 1e-6, "chunked sampling " + sampling + " aligned " + aligned);
      }
    }
  }

  @Test
  void boxesPerImageEqualsRoiFormat() {
    NDArray features = Fixtures.get(fx, "features");
    NDArray rois = Fixtures.get(fx, "c0_rois");
    float[] r = rois.toFloatArray();
    float[][] per = new float[2][];
    int[] counts = new int[2];
    for (int i = 0; i < r.length / 5; i++) {
      counts[(int) r[5 * i]]++;
    }
    NDArray[] boxes = new NDArray[2];
    NDArray expected;
    long[] order = new long[r.length / 5];
    int o = 0;
    for (int img = 0; img < 2; img++) {
      per[img] = new float[4 * counts[img]];
      int j = 0;
      for (int i = 0; i < r.length / 5; i++) {
        if ((int) r[5 * i] == img) {
          System.arraycopy(r, 5 * i + 1, per[img], 4 * j++, 4);
          order[o++] = i;
        }
      }
      boxes[img] = manager.create(per[img], new Shape(counts[img], 4));
    }
    RoiAlign op = RoiAlign.builder().optOutputSize(3, 4).optSamplingRatio(2).build();
    expected = op.apply(features, rois).get(manager.create(order));
    NDArray actual = op.apply(features, Arrays.asList(boxes));
    assertClose(expected, actual, 0, "per-image boxes");
    NDArray converted = Rois.fromBoxes(Arrays.asList(boxes));
    assertEquals(new Shape(12, 5), converted.getShape());
    assertArrayEquals(
        new float[] {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, converted.get(":, 0").toFloatArray());
  }

  @Test
  void emptyRoisGiveEmptyOutput() {
    NDArray features = manager.zeros(new Shape(2, 3, 5, 5));
    NDArray rois = manager.zeros(new Shape(0, 5));
    for (Backend backend : Backend.values()) {
      NDArray out =
          RoiAlign.builder().optOutputSize(2, 3).optBackend(backend).build().apply(features, rois);
      assertEquals(new Shape(0, 3, 2, 3), out.getShape());
      assertSame(manager, out.getManager());
    }
    NDArray fromLists =
        RoiAlign.builder()
            .build()
            .apply(
                features,
                Arrays.asList(manager.zeros(new Shape(0, 4)), manager.zeros(new Shape(0, 4))));
    assertEquals(new Shape(0, 3, 7, 7), fromLists.getShape());
  }

  @Test
  void resultIsOnTheCallersManagerAndFloat32() {
    NDArray features = Fixtures.get(fx, "features");
    NDArray rois = Fixtures.get(fx, "c0_rois");
    for (Backend backend : Backend.values()) {
      NDArray out = RoiAlign.builder().optBackend(backend).build().apply(features, rois);
      assertSame(manager, out.getManager());
      assertEquals(DataType.FLOAT32, out.getDataType());
      assertEquals(new Shape(12, 3, 7, 7), out.getShape());
    }
  }

  @Test
  void badInputThrowsIllegalArgument() {
    RoiAlign op = RoiAlign.builder().build();
    NDArray features = manager.zeros(new Shape(2, 3, 5, 5));
    NDArray good = manager.create(new float[] {0, 0, 0, 1, 1}, new Shape(1, 5));
    assertMessage(() -> op.apply(manager.zeros(new Shape(3, 5, 5)), good), "features", "(3, 5, 5)");
    assertMessage(
        () -> op.apply(manager.zeros(new Shape(2, 3, 5, 5), DataType.FLOAT64), good),
        "features",
        "float64");
    assertMessage(() -> op.apply(features, manager.zeros(new Shape(1, 4))), "rois", "(1, 4)");
    assertMessage(
        () -> op.apply(features, manager.create(new float[] {2, 0, 0, 1, 1}, new Shape(1, 5))),
        "batch index",
        "[0, 2)");
    assertMessage(
        () -> op.apply(features, manager.create(new float[] {0.5f, 0, 0, 1, 1}, new Shape(1, 5))),
        "batch index");
    assertMessage(
        () ->
            op.apply(
                features, manager.create(new float[] {0, 0, Float.NaN, 1, 1}, new Shape(1, 5))),
        "rois",
        "finite");
    assertMessage(
        () -> op.apply(features, manager.create(new float[] {0, 3, 0, 1, 1}, new Shape(1, 5))),
        "rois",
        "x2 >= x1");
    assertMessage(() -> RoiAlign.builder().optOutputSize(0, 7), "output size", "(0, 7)");
    assertMessage(() -> RoiAlign.builder().optSpatialScale(0f), "spatialScale", "0.0");
    assertMessage(
        () -> op.apply(features, Arrays.asList(manager.zeros(new Shape(2, 5)))),
        "boxesPerImage[0]",
        "(2, 5)");
  }
}
