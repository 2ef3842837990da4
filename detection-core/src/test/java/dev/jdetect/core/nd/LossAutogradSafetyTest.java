package dev.jdetect.core.nd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.roi.MultiScaleRoiAlign;
import dev.jdetect.core.roi.RoiAlign;
import dev.jdetect.testkit.DirectMemoryChurn;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * The differentiable core functions must give the same gradients whether or not the garbage
 * collector runs between the forward and the backward pass (see {@link Scalars} for why it may not
 * on DJL's PyTorch engine). The forward runs in a sub-manager closed before backward, as models do
 * with their scopes.
 */
class LossAutogradSafetyTest {

  private static final int CHURN_ROUNDS = 3;

  @Test
  void smoothL1() throws Exception {
    check(
        new Shape(6, 4),
        (x, m) -> {
          NDArray target = m.randomUniform(-1, 1, new Shape(6, 4));
          NDArray a = DetectionLosses.smoothL1(x, target, 1f / 9).sum();
          return a.add(DetectionLosses.smoothL1(x, target, 1f).sum());
        });
  }

  @Test
  void classificationLosses() throws Exception {
    check(
        new Shape(5, 4),
        (x, m) -> {
          NDArray labels = m.create(new long[] {0, 3, 2, -100, 1});
          NDArray targets = m.create(new float[20], new Shape(5, 4)).add(0.5f).gt(0f);
          NDArray binary = targets.toType(DataType.FLOAT32, false).mul(x.gt(0.3f));
          return DetectionLosses.crossEntropy(x, labels)
              .sum()
              .add(DetectionLosses.softmaxFocal(x, labels, 0.5f, 2f, -100).sum())
              .add(DetectionLosses.sigmoidFocal(x, binary, 0.25f, 2f).sum())
              .add(DetectionLosses.sigmoidFocal(x, binary, -1f, 1.5f).sum())
              .add(DetectionLosses.binaryCrossEntropyWithLogits(x, binary).sum());
        });
  }

  @Test
  void boxCoderDecodeAndBoxConversions() throws Exception {
    BoxCoder coder =
        BoxCoder.builder().optWeights(10, 10, 5, 5).optBboxXformClip(Math.log(1000.0 / 16)).build();
    check(
        new Shape(4, 8),
        (x, m) -> {
          NDArray anchors =
              m.create(
                  new float[] {0, 0, 10, 10, 5, 5, 25, 15, 2, 8, 30, 40, 10, 10, 12, 50},
                  new Shape(4, 4));
          // large deltas so that some dw / dh hit the clip
          NDArray deltas =
              x.mul(Scalars.constant(m, new float[] {1, 1, 60, 60, 1, 1, 60, 60}, new Shape(8)));
          NDArray boxes = coder.decode(deltas, anchors);
          NDArray clipped = Boxes.clip(boxes.reshape(8, 4), 30, 40);
          NDArray c = Boxes.xyxyToCxcywh(clipped);
          NDArray back = Boxes.cxcywhToXyxy(c);
          NDArray gt = m.create(new float[] {1, 1, 9, 9, 6, 4, 20, 16, 3, 9, 28, 35, 9, 9, 14, 40});
          NDArray encoded = coder.encode(gt.reshape(4, 4), anchors);
          return back.square()
              .sum()
              .add(c.square().sum())
              .add(DetectionLosses.smoothL1(deltas.get(":, :4"), encoded, 1f / 9).sum());
        });
  }

  @Test
  void roiAlignGradientsWrtFeatures() throws Exception {
    RoiAlign align =
        RoiAlign.builder()
            .optOutputSize(3, 3)
            .optSpatialScale(0.5f)
            .optSamplingRatio(2)
            .optAligned(true)
            .build();
    MultiScaleRoiAlign multi =
        MultiScaleRoiAlign.builder()
            .optOutputSize(2, 2)
            .optSamplingRatio(2)
            .optCanonicalScale(16)
            .optCanonicalLevel(3)
            .build();
    check(
        new Shape(2, 3, 8, 8),
        (x, m) -> {
          NDArray rois =
              m.create(
                  new float[] {0, 1, 1, 9, 9, 1, 2, 0, 14, 12, 0, 4, 6, 15, 15}, new Shape(3, 5));
          NDArray single = align.apply(x, rois);
          NDArray coarse = x.get(":, :, ::2, ::2");
          NDArray pooled =
              multi.apply(
                  List.of(x, coarse),
                  List.of(
                      m.create(new float[] {1, 1, 3, 3, 0, 0, 15, 15}, new Shape(2, 4)),
                      m.create(new float[] {2, 2, 14, 6}, new Shape(1, 4))),
                  List.of(new int[] {16, 16}, new int[] {16, 16}));
          NDArray w = m.randomUniform(-1, 1, single.getShape());
          return single.mul(w).sum().add(pooled.square().sum());
        });
  }

  /**
   * Computes d loss / d x twice, plainly and with the GC churning between forward and backward, and
   * requires identical, finite, not all-zero gradients.
   */
  private static void check(Shape shape, BiFunction<NDArray, NDManager, NDArray> loss)
      throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      float[] plain = gradient(manager, shape, loss, false);
      boolean nonZero = false;
      for (float v : plain) {
        assertTrue(Float.isFinite(v), "non-finite gradient");
        nonZero |= v != 0f;
      }
      assertTrue(nonZero, "gradient is all zero");
      for (int trial = 0; trial < 2; trial++) {
        float[] churned = gradient(manager, shape, loss, true);
        assertEquals(plain.length, churned.length);
        for (int i = 0; i < plain.length; i++) {
          float tol = 1e-6f * Math.max(1f, Math.abs(plain[i]));
          if (!(Math.abs(plain[i] - churned[i]) <= tol)) {
            fail("gradient[" + i + "] changed after GC: " + plain[i] + " vs " + churned[i]);
          }
        }
      }
    }
  }

  private static float[] gradient(
      NDManager manager, Shape shape, BiFunction<NDArray, NDManager, NDArray> loss, boolean churn)
      throws Exception {
    manager.getEngine().setRandomSeed(3);
    NDArray x = manager.randomUniform(-2, 2, shape);
    x.setRequiresGradient(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray total;
      try (NDManager forward = manager.newSubManager()) {
        manager.getEngine().setRandomSeed(5);
        total = loss.apply(x, forward);
        total.attach(manager);
      }
      if (churn) {
        DirectMemoryChurn.churn(CHURN_ROUNDS);
      }
      gc.backward(total);
    }
    return x.getGradient().toFloatArray();
  }
}
