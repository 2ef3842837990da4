package dev.jdetect.core.roi;

import static dev.jdetect.core.roi.RoiTestSupport.TOL;
import static dev.jdetect.core.roi.RoiTestSupport.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link RoiPool}'s channels-last kernels (the no-gradient max path and the gradient path's arg-max
 * gather) against a scalar NCHW transcription of torchvision's CPU {@code roi_pool} kernel: empty
 * and clipped bins, ties, negative and non-finite values, batch indices above 0, enough work for
 * the parallel chunks, and outputs split into several parts.
 */
@ExtendWith(NDManagerExtension.class)
class RoiPoolKernelTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  /** torchvision's CPU forward, NCHW, scalar: values and the flat arg-max (-1 if none). */
  private static final class Reference {
    final float[] values;
    final int[] argmax;

    Reference(float[] f, Shape fs, float[] rois, int oh, int ow, float scale) {
      int c = (int) fs.get(1);
      int h = (int) fs.get(2);
      int w = (int) fs.get(3);
      int k = rois.length / 5;
      values = new float[k * c * oh * ow];
      argmax = new int[values.length];
      for (int roi = 0; roi < k; roi++) {
        int batch = (int) rois[5 * roi];
        int startW = roundHalfAway(rois[5 * roi + 1] * scale);
        int startH = roundHalfAway(rois[5 * roi + 2] * scale);
        int endW = roundHalfAway(rois[5 * roi + 3] * scale);
        int endH = roundHalfAway(rois[5 * roi + 4] * scale);
        float binH = (float) Math.max(endH - startH + 1, 1) / oh;
        float binW = (float) Math.max(endW - startW + 1, 1) / ow;
        for (int ch = 0; ch < c; ch++) {
          for (int ph = 0; ph < oh; ph++) {
            int hs = clamp((int) Math.floor(ph * binH) + startH, h);
            int he = clamp((int) Math.ceil((ph + 1) * binH) + startH, h);
            for (int pw = 0; pw < ow; pw++) {
              int ws = clamp((int) Math.floor(pw * binW) + startW, w);
              int we = clamp((int) Math.ceil((pw + 1) * binW) + startW, w);
              boolean empty = he <= hs || we <= ws;
              float max = empty ? 0f : -Float.MAX_VALUE;
              int arg = -1;
              for (int y = hs; y < he; y++) {
                for (int x = ws; x < we; x++) {
                  int i = ((batch * c + ch) * h + y) * w + x;
                  if (f[i] > max) {
                    max = f[i];
                    arg = i;
                  }
                }
              }
              int o = ((roi * c + ch) * oh + ph) * ow + pw;
              values[o] = max;
              argmax[o] = arg;
            }
          }
        }
      }
    }

    /** C's {@code roundf}: halves away from zero (Java's Math.round rounds -2.5 to -2). */
    private static int roundHalfAway(float v) {
      return (int) (v >= 0 ? Math.floor(v + 0.5) : -Math.floor(-v + 0.5));
    }

    private static int clamp(int v, int size) {
      return Math.min(Math.max(v, 0), size);
    }

    /** torchvision's backward: each output's weight goes to its arg-max (none if -1). */
    float[] grad(int size, float[] weights) {
      float[] g = new float[size];
      for (int o = 0; o < argmax.length; o++) {
        if (argmax[o] >= 0) {
          g[argmax[o]] += weights[o];
        }
      }
      return g;
    }
  }

  /**
   * Runs both paths and checks them against the reference: the no-gradient values bit for bit, the
   * gradient path's values bit for bit and its input gradient within {@link RoiTestSupport#TOL}.
   */
  private void assertMatchesReference(
      float[] f, Shape fs, float[] r, int oh, int ow, float scale, long partElements) {
    RoiPool.Builder builder = RoiPool.builder().optOutputSize(oh, ow).optSpatialScale(scale);
    if (partElements > 0) {
      builder.optPartElements(partElements);
    }
    RoiPool op = builder.build();
    Reference ref = new Reference(f, fs, r, oh, ow, scale);
    int k = r.length / 5;
    Shape outShape = new Shape(k, fs.get(1), oh, ow);
    String what = "output " + oh + "x" + ow + ", scale " + scale + ", parts " + partElements;
    try (NDManager sub = manager.newSubManager()) {
      NDArray features = sub.create(f, fs);
      NDArray rois = sub.create(r, new Shape(k, 5));
      NDArray plain = op.apply(features, rois);
      assertEquals(outShape, plain.getShape(), what);
      assertArrayEquals(ref.values, plain.toFloatArray(), what + ": no-gradient path");

      float[] weights = new float[ref.values.length];
      Random rnd = new Random(7);
      for (int i = 0; i < weights.length; i++) {
        weights[i] = rnd.nextInt(9) - 4;
      }
      NDArray x = features.duplicate();
      x.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        int before = sub.getManagedArrays().size();
        NDArray out = op.apply(x, rois);
        assertEquals(before + 1, sub.getManagedArrays().size(), what + ": arrays left behind");
        assertEquals(outShape, out.getShape(), what);
        assertArrayEquals(ref.values, out.toFloatArray(), what + ": gradient path");
        gc.backward(out.mul(sub.create(weights, outShape)).sum());
      }
      NDArray expected = sub.create(ref.grad(f.length, weights), fs);
      assertClose(expected, x.getGradient(), TOL, what + ": input gradient");
    }
  }

  private static float[] randomRois(Random rnd, int k, int batch, float lo, float hi) {
    float[] r = new float[5 * k];
    for (int i = 0; i < k; i++) {
      float x1 = lo + rnd.nextFloat() * (hi - lo);
      float y1 = lo + rnd.nextFloat() * (hi - lo);
      r[5 * i] = rnd.nextInt(batch);
      r[5 * i + 1] = x1;
      r[5 * i + 2] = y1;
      r[5 * i + 3] = x1 + rnd.nextFloat() * (hi - lo) / 2;
      r[5 * i + 4] = y1 + rnd.nextFloat() * (hi - lo) / 2;
    }
    return r;
  }

  /** Small integers: many ties, negative maxima, zero maxima. */
  private static float[] tiedValues(Random rnd, int size) {
    float[] f = new float[size];
    for (int i = 0; i < size; i++) {
      f[i] = rnd.nextInt(5) - 3;
    }
    return f;
  }

  @Test
  void randomTiedMapsMatchScalarReference() {
    Random rnd = new Random(42);
    Shape fs = new Shape(3, 5, 9, 11); // odd channel count, 3 images
    float[] f = tiedValues(rnd, (int) fs.size());
    // corners in [-12, 14] at scale 1: RoIs partly and fully outside, batch indices 0..2
    float[] r = randomRois(rnd, 40, 3, -12f, 14f);
    assertMatchesReference(f, fs, r, 7, 7, 1f, 0);
    assertMatchesReference(f, fs, r, 2, 3, 1f, 0);
    assertMatchesReference(f, fs, r, 1, 1, 1f, 0);
    // scale 1/4: sub-pixel RoIs, .5 corners after scaling
    float[] coarse = randomRois(rnd, 30, 3, -20f, 60f);
    assertMatchesReference(f, fs, coarse, 3, 2, 0.25f, 0);
  }

  @Test
  void parallelChunksAndSplitOutputMatchScalarReference() {
    Random rnd = new Random(3);
    Shape fs = new Shape(2, 64, 12, 14);
    float[] f = new float[(int) fs.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    // 61 RoIs x 64 x 7 x 7 = 191,296 outputs: above the parallel threshold (65,536)
    float[] r = randomRois(rnd, 61, 2, -30f, 240f);
    assertMatchesReference(f, fs, r, 7, 7, 1f / 16, 0);
    // parts of 7 RoIs (the last one shorter) and parts of 1 RoI
    assertMatchesReference(f, fs, r, 7, 7, 1f / 16, 7L * 64 * 49);
    assertMatchesReference(f, fs, r, 7, 7, 1f / 16, 1);
    // ties and negatives in the parallel case too
    float[] tied = tiedValues(rnd, f.length);
    assertMatchesReference(tied, fs, r, 7, 7, 1f / 16, 0);
  }

  @Test
  void emptyBinsAreZeroWhileNegativeBinsStayNegative() {
    // channel 0 = -(y * 3 + x + 1), channel 1 = y * 3 + x + 1 on a 3x3 map
    float[] f = new float[18];
    for (int i = 0; i < 9; i++) {
      f[i] = -(i + 1);
      f[9 + i] = i + 1;
    }
    Shape fs = new Shape(1, 2, 3, 3);
    // x 2..5 (width 4), y 1..2 (height 2), 2x2 bins: columns [2,4) -> [2,3) and [4,6) -> empty
    float[] r = {0, 2, 1, 5, 2};
    try (NDManager sub = manager.newSubManager()) {
      NDArray out =
          RoiPool.builder()
              .optOutputSize(2, 2)
              .build()
              .apply(sub.create(f, fs), sub.create(r, new Shape(1, 5)));
      assertArrayEquals(new float[] {-6, 0, -9, 0, 6, 0, 9, 0}, out.toFloatArray());
    }
    assertMatchesReference(f, fs, r, 2, 2, 1f, 0);
  }

  @Test
  void tiesRouteTheGradientToTheFirstMaximumInRowMajorOrder() {
    float[] ones = new float[16];
    Arrays.fill(ones, 1f);
    Shape fs = new Shape(1, 1, 4, 4);
    float[] r = {0, 0, 0, 3, 3};
    try (NDManager sub = manager.newSubManager()) {
      NDArray x = sub.create(ones, fs);
      x.setRequiresGradient(true);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out =
            RoiPool.builder().optOutputSize(2, 2).build().apply(x, sub.create(r, new Shape(1, 5)));
        assertArrayEquals(new float[] {1, 1, 1, 1}, out.toFloatArray());
        gc.backward(out.sum());
      }
      float[] expected = new float[16];
      expected[0] = 1; // bin (0, 0) = rows 0..1, columns 0..1
      expected[2] = 1; // bin (0, 1)
      expected[8] = 1; // bin (1, 0)
      expected[10] = 1; // bin (1, 1)
      assertArrayEquals(expected, x.getGradient().toFloatArray());
    }
    // 3x3 bins of 4/3 overlap: a shared pixel is the first maximum of several bins
    assertMatchesReference(ones, fs, r, 3, 3, 1f, 0);
  }

  @Test
  void nanIsSkippedAndNonFiniteOnlyBinsGiveMinusFloatMax() {
    // torchvision 0.14.1: roi_pool([[nan, 3], [-inf, nan]]) -> 1x1: 3; 2x2: [-FLT_MAX, 3, ...]
    float nan = Float.NaN;
    float[] f = {nan, 3f, Float.NEGATIVE_INFINITY, nan, nan, nan, 2f, -1f};
    Shape fs = new Shape(1, 2, 2, 2);
    float[] r = {0, 0, 0, 1, 1};
    float lowest = -Float.MAX_VALUE;
    try (NDManager sub = manager.newSubManager()) {
      NDArray features = sub.create(f, fs);
      NDArray rois = sub.create(r, new Shape(1, 5));
      NDArray whole = RoiPool.builder().optOutputSize(1, 1).build().apply(features, rois);
      assertArrayEquals(new float[] {3f, 2f}, whole.toFloatArray());
      NDArray bins = RoiPool.builder().optOutputSize(2, 2).build().apply(features, rois);
      assertArrayEquals(
          new float[] {lowest, 3f, lowest, lowest, lowest, lowest, 2f, -1f}, bins.toFloatArray());
    }
    assertMatchesReference(f, fs, r, 1, 1, 1f, 0);
    assertMatchesReference(f, fs, r, 2, 2, 1f, 0);
    // NaN spread over many channels, in the parallel case
    Random rnd = new Random(11);
    Shape big = new Shape(2, 40, 10, 10);
    float[] g = new float[(int) big.size()];
    for (int i = 0; i < g.length; i++) {
      int u = rnd.nextInt(20);
      g[i] = u == 0 ? nan : u == 1 ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
    }
    assertMatchesReference(g, big, randomRois(rnd, 50, 2, -3f, 12f), 7, 7, 1f, 0);
  }

  @Test
  void batchIndexSelectsItsImage() {
    Random rnd = new Random(5);
    Shape one = new Shape(1, 3, 6, 7);
    float[] a = tiedValues(rnd, (int) one.size());
    float[] b = tiedValues(rnd, (int) one.size());
    float[] both = new float[2 * a.length];
    System.arraycopy(a, 0, both, 0, a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    float[] roi = {1, 0.5f, 1.5f, 5.5f, 4.5f};
    float[] roi0 = roi.clone();
    roi0[0] = 0;
    RoiPool op = RoiPool.builder().optOutputSize(3, 3).build();
    try (NDManager sub = manager.newSubManager()) {
      float[] fromBatch =
          op.apply(sub.create(both, new Shape(2, 3, 6, 7)), sub.create(roi, new Shape(1, 5)))
              .toFloatArray();
      NDArray single = sub.create(roi0, new Shape(1, 5));
      float[] alone = op.apply(sub.create(b, one), single).toFloatArray();
      float[] other = op.apply(sub.create(a, one), single).toFloatArray();
      assertArrayEquals(alone, fromBatch);
      assertFalse(Arrays.equals(other, fromBatch), "images must differ");
    }
    assertMatchesReference(both, new Shape(2, 3, 6, 7), roi, 3, 3, 1f, 0);
  }
}
