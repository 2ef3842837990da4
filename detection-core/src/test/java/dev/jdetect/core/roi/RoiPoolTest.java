package dev.jdetect.core.roi;

import static dev.jdetect.core.roi.RoiTestSupport.TOL;
import static dev.jdetect.core.roi.RoiTestSupport.assertClose;
import static dev.jdetect.core.roi.RoiTestSupport.assertMessage;
import static dev.jdetect.core.roi.RoiTestSupport.assertNonLeafGradient;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link RoiPool} against torchvision 0.14.1 ({@code fixtures/roi/roi_pool.npz}: .5 corners in both
 * signs, RoIs partly and fully outside the map, a single-pixel RoI; three scale / size
 * configurations; output and input gradient), plus hand-computed and bad-input cases.
 */
@ExtendWith(NDManagerExtension.class)
class RoiPoolTest {

  private NDManager manager;
  private NDList fx;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    fx = Fixtures.load(manager, "/fixtures/roi/roi_pool.npz");
  }

  private RoiPool fromParams(String prefix) {
    float[] p = Fixtures.get(fx, prefix + "params").toFloatArray();
    return RoiPool.builder().optSpatialScale(p[0]).optOutputSize((int) p[1], (int) p[2]).build();
  }

  @Test
  void forwardAndGradientMatchTorchvision() {
    int configs = (int) Fixtures.get(fx, "num_configs").toLongArray()[0];
    assertEquals(3, configs);
    for (int c = 0; c < configs; c++) {
      String p = "c" + c + "_";
      NDArray rois = Fixtures.get(fx, p + "rois");
      NDArray plain = fromParams(p).apply(Fixtures.get(fx, "features"), rois);
      assertClose(Fixtures.get(fx, p + "out"), plain, TOL, "config " + c + " forward");
      try (NDManager sub = manager.newSubManager()) {
        NDArray x = Fixtures.get(fx, "features").duplicate();
        x.attach(sub);
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray out = fromParams(p).apply(x, rois);
          assertClose(Fixtures.get(fx, p + "out"), out, 0, "config " + c + " forward (grad path)");
          gc.backward(out.mul(Fixtures.get(fx, p + "weights")).sum());
        }
        assertClose(Fixtures.get(fx, p + "grad"), x.getGradient(), TOL, "config " + c + " grad");
      }
    }
  }

  /** Features that are an op's output (a backbone's map) still get torchvision's gradient. */
  @Test
  void gradientReachesNonLeafFeatures() {
    assertNonLeafGradient(manager, fx, (p, f, r) -> fromParams(p).apply(f, r));
  }

  @Test
  void handComputedBins() {
    float[] ramp = new float[20];
    for (int i = 0; i < 20; i++) {
      ramp[i] = i; // 4 x 5 map, max of any window is its bottom-right pixel
    }
    NDArray features = manager.create(ramp, new Shape(1, 1, 4, 5));
    // RoI [0.6, 0.4, 3.4, 2.6] rounds to x 1..3, y 0..3: width 3, height 4, bins 2x2
    // h bins: [0,2), [2,4); w bins: floor(0)=0..ceil(1.5)=2 -> x 1..2, floor(1.5)=1..3 -> x 2..3
    NDArray rois = manager.create(new float[] {0, 0.6f, 0.4f, 3.4f, 2.6f}, new Shape(1, 5));
    NDArray out = RoiPool.builder().optOutputSize(2, 2).build().apply(features, rois);
    assertArrayEquals(new float[] {7, 8, 17, 18}, out.toFloatArray());
    // fully outside: empty bins are 0
    NDArray outside = manager.create(new float[] {0, 10, 10, 12, 12}, new Shape(1, 5));
    assertArrayEquals(
        new float[4],
        RoiPool.builder().optOutputSize(2, 2).build().apply(features, outside).toFloatArray());
  }

  @Test
  void roundsHalfAwayFromZeroLikeC() {
    assertEquals(3, RoiPool.roundHalfAway(2.5f));
    assertEquals(-3, RoiPool.roundHalfAway(-2.5f));
    assertEquals(-2, RoiPool.roundHalfAway(-2.4f));
    assertEquals(0, RoiPool.roundHalfAway(-0.4f));
  }

  @Test
  void emptyRoisGiveEmptyOutput() {
    NDArray features = manager.zeros(new Shape(1, 2, 4, 4));
    NDArray out = RoiPool.builder().build().apply(features, manager.zeros(new Shape(0, 5)));
    assertEquals(new Shape(0, 2, 7, 7), out.getShape());
    NDArray fromList =
        RoiPool.builder().build().apply(features, Arrays.asList(manager.zeros(new Shape(0, 4))));
    assertEquals(new Shape(0, 2, 7, 7), fromList.getShape());
  }

  @Test
  void badInputThrowsIllegalArgument() {
    RoiPool op = RoiPool.builder().build();
    NDArray features = manager.zeros(new Shape(1, 2, 4, 4));
    assertMessage(
        () -> op.apply(manager.zeros(new Shape(2, 4, 4)), manager.zeros(new Shape(0, 5))),
        "features");
    assertMessage(() -> op.apply(features, manager.zeros(new Shape(3))), "rois", "(3)");
    assertMessage(
        () -> op.apply(features, manager.create(new float[] {1, 0, 0, 1, 1}, new Shape(1, 5))),
        "batch index");
    assertMessage(() -> RoiPool.builder().optOutputSize(7, -1), "output size");
    assertMessage(() -> RoiPool.builder().optSpatialScale(Float.NaN), "spatialScale");
  }
}
