package dev.jdetect.core.loss;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.Fixtures;
import org.junit.jupiter.api.Test;

/** GIoU loss and reduced focal loss equal torchvision 0.14.1 (gen_core_retinanet.py). */
class GeneralizedIouLossTest {

  private static final float TOL = 1e-5f;
  private static final Reduction[] REDUCTIONS = {Reduction.NONE, Reduction.MEAN, Reduction.SUM};

  @Test
  void giouLossValuesAndGradientsMatchTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/giou_loss.npz");
      float[] epsilons = Fixtures.get(f, "epsilons").toFloatArray();
      NDArray weight = Fixtures.get(f, "weight");
      for (int r = 0; r < REDUCTIONS.length; r++) {
        for (int e = 0; e < epsilons.length; e++) {
          String key = "r" + r + "_e" + e;
          NDArray pred = Fixtures.get(f, "pred").duplicate();
          NDArray target = Fixtures.get(f, "target").duplicate();
          pred.setRequiresGradient(true);
          target.setRequiresGradient(true);
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray out =
                DetectionLosses.generalizedIouLoss(pred, target, REDUCTIONS[r], epsilons[e]);
            assertClose(Fixtures.get(f, "out_" + key), out, TOL, "giou loss " + key);
            gc.backward(REDUCTIONS[r] == Reduction.NONE ? out.mul(weight).sum() : out);
          }
          assertClose(
              Fixtures.get(f, "grad_pred_" + key), pred.getGradient(), TOL, "grad pred " + key);
          assertClose(
              Fixtures.get(f, "grad_target_" + key),
              target.getGradient(),
              TOL,
              "grad target " + key);
        }
      }
      NDArray none = Fixtures.get(f, "out_r0_e0");
      assertEquals(0f, none.getFloat(0), 1e-6f, "identical boxes");
      assertEquals(true, none.getFloat(1) > 1f, "disjoint boxes cost more than 1");
    }
  }

  @Test
  void emptyMeanIsZeroAndSingleBoxesGiveAScalar() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/giou_loss.npz");
      NDArray empty = manager.zeros(new Shape(0, 4));
      NDArray mean = DetectionLosses.generalizedIouLoss(empty, empty, Reduction.MEAN, 1e-7f);
      assertClose(Fixtures.get(f, "empty_mean"), mean, 0f, "mean of no boxes");
      NDArray single =
          DetectionLosses.generalizedIouLoss(
              Fixtures.get(f, "pred").get(3),
              Fixtures.get(f, "target").get(3),
              Reduction.NONE,
              1e-7f);
      assertClose(Fixtures.get(f, "single"), single, TOL, "single pair");
      assertThrows(
          IllegalArgumentException.class,
          () ->
              DetectionLosses.generalizedIouLoss(
                  manager.zeros(new Shape(2, 4)),
                  manager.zeros(new Shape(3, 4)),
                  Reduction.SUM,
                  1e-7f));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              DetectionLosses.generalizedIouLoss(
                  manager.zeros(new Shape(2, 3)),
                  manager.zeros(new Shape(2, 3)),
                  Reduction.SUM,
                  1e-7f));
    }
  }

  @Test
  void reducedSigmoidFocalMatchesTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/focal_reduction.npz");
      NDArray targets = Fixtures.get(f, "targets");
      for (Reduction reduction : new Reduction[] {Reduction.MEAN, Reduction.SUM}) {
        String name = reduction.name().toLowerCase(java.util.Locale.ROOT);
        NDArray x = Fixtures.get(f, "logits").duplicate();
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray out = DetectionLosses.sigmoidFocal(x, targets, 0.25f, 2f, reduction);
          assertEquals(new Shape(), out.getShape());
          assertClose(Fixtures.get(f, "out_" + name), out, TOL, "focal " + name);
          gc.backward(out);
        }
        assertClose(Fixtures.get(f, "grad_" + name), x.getGradient(), TOL, "focal grad " + name);
      }
      NDArray none =
          DetectionLosses.sigmoidFocal(
              Fixtures.get(f, "logits"), targets, 0.25f, 2f, Reduction.NONE);
      assertEquals(new Shape(6, 5), none.getShape());
    }
  }
}
