package dev.jdetect.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class DetectionLossesTest {

  private static final float TOL = 1e-5f;

  private static void assertClose(float[] expected, float[] actual, float tol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      assertTrue(
          Float.isFinite(actual[i]) && Math.abs(expected[i] - actual[i]) <= tol,
          what + " at " + i + ": expected " + expected[i] + ", got " + actual[i]);
    }
  }

  private static void assertClose(NDArray expected, NDArray actual, String what) {
    assertEquals(expected.getShape(), actual.getShape(), what + ": shape");
    assertClose(expected.toFloatArray(), actual.toFloatArray(), TOL, what);
  }

  /**
   * Runs {@code loss} on a fresh copy of {@code input} under a gradient collector, back-propagates
   * {@code sum(out * weight)}, and compares the output and the input gradient with the fixture.
   */
  private static void checkValueAndGradient(
      NDManager manager,
      NDArray input,
      NDArray weight,
      UnaryOperator<NDArray> loss,
      NDArray expectedOut,
      NDArray expectedGrad,
      String what) {
    NDArray x = input.duplicate();
    x.setRequiresGradient(true);
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray out = loss.apply(x);
      assertClose(expectedOut, out, what + " value");
      collector.backward(out.mul(weight).sum());
    }
    assertClose(expectedGrad, x.getGradient(), what + " gradient");
  }

  @Test
  void smoothL1MatchesTorchValuesAndGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/smooth_l1.npz");
      NDArray input = Fixtures.get(f, "input");
      NDArray target = Fixtures.get(f, "target");
      float[] betas = Fixtures.get(f, "betas").toFloatArray();
      for (int b = 0; b < betas.length; b++) {
        float beta = betas[b];
        checkValueAndGradient(
            manager,
            input,
            Fixtures.get(f, "weight"),
            x -> DetectionLosses.smoothL1(x, target, beta),
            Fixtures.get(f, "out_b" + b),
            Fixtures.get(f, "grad_b" + b),
            "smoothL1 beta=" + beta);
      }
    }
  }

  @Test
  void smoothL1HandComputed() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray input = manager.create(new float[] {0.5f, 2f, -3f, 1f, 0f});
      NDArray target = manager.zeros(new Shape(5));
      // beta 1: 0.5*0.25 = 0.125; 2-0.5; 3-0.5; |d| == beta is linear: 1-0.5; 0
      assertClose(
          new float[] {0.125f, 1.5f, 2.5f, 0.5f, 0f},
          DetectionLosses.smoothL1(input, target, 1f).toFloatArray(),
          1e-7f,
          "beta 1");
      assertClose(
          new float[] {0.5f, 2f, 3f, 1f, 0f},
          DetectionLosses.smoothL1(input, target, 0f).toFloatArray(),
          0f,
          "beta 0");
    }
  }

  @Test
  void crossEntropyMatchesTorchWithIgnoreIndex() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/cross_entropy.npz");
      NDArray logits = Fixtures.get(f, "logits");
      NDArray weight = Fixtures.get(f, "weight");
      NDArray labelsIgn = Fixtures.get(f, "labels_ign");
      checkValueAndGradient(
          manager,
          logits,
          weight,
          x -> DetectionLosses.crossEntropy(x, labelsIgn, -1),
          Fixtures.get(f, "out_ign"),
          Fixtures.get(f, "grad_ign"),
          "crossEntropy ignore -1");
      NDArray labelsDef = Fixtures.get(f, "labels_def");
      checkValueAndGradient(
          manager,
          logits,
          weight,
          x -> DetectionLosses.crossEntropy(x, labelsDef),
          Fixtures.get(f, "out_def"),
          Fixtures.get(f, "grad_def"),
          "crossEntropy default ignore");
    }
  }

  @Test
  void crossEntropyHandComputedAndIntLabels() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray logits = manager.zeros(new Shape(2, 3, 4));
      NDArray labels = manager.create(new int[][] {{0, 3, -1}, {2, 1, 0}});
      NDArray loss = DetectionLosses.crossEntropy(logits, labels, -1);
      assertEquals(new Shape(2, 3), loss.getShape());
      float log4 = (float) Math.log(4);
      assertClose(
          new float[] {log4, log4, 0f, log4, log4, log4}, loss.toFloatArray(), 1e-6f, "uniform");
      // an ignore index inside [0, C) is honoured too
      NDArray ignoreZero = DetectionLosses.crossEntropy(logits, labels.abs(), 0);
      assertClose(
          new float[] {0f, log4, log4, log4, log4, 0f}, ignoreZero.toFloatArray(), 1e-6f, "i0");
      NDArray empty =
          DetectionLosses.crossEntropy(
              manager.zeros(new Shape(0, 5)), manager.zeros(new Shape(0), DataType.INT64));
      assertEquals(new Shape(0), empty.getShape());
    }
  }

  @Test
  void crossEntropyResultStaysOnTheCallersManager() {
    try (NDManager manager = NDManager.newBaseManager();
        NDManager sub = manager.newSubManager()) {
      NDArray logits = sub.zeros(new Shape(3, 2));
      NDArray loss = DetectionLosses.crossEntropy(logits, sub.create(new long[] {0, 1, 1}), -100);
      assertSame(sub, loss.getManager());
    }
  }

  @Test
  void binaryCrossEntropyWithLogitsMatchesTorchIncludingExtremes() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/bce_logits.npz");
      NDArray targets = Fixtures.get(f, "targets");
      checkValueAndGradient(
          manager,
          Fixtures.get(f, "logits"),
          Fixtures.get(f, "weight"),
          x -> DetectionLosses.binaryCrossEntropyWithLogits(x, targets),
          Fixtures.get(f, "out"),
          Fixtures.get(f, "grad"),
          "bce");
    }
  }

  @Test
  void binaryCrossEntropyStableAtHugeLogits() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray logits = manager.create(new float[] {1000f, -1000f, 1000f, -1000f, 0f});
      NDArray targets = manager.create(new float[] {1f, 0f, 0f, 1f, 1f});
      logits.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray loss = DetectionLosses.binaryCrossEntropyWithLogits(logits, targets);
        assertClose(
            new float[] {0f, 0f, 1000f, 1000f, (float) Math.log(2)},
            loss.toFloatArray(),
            1e-6f,
            "value");
        collector.backward(loss.sum());
      }
      // d/dx = sigmoid(x) - t
      assertClose(
          new float[] {0f, 0f, 1f, -1f, -0.5f},
          logits.getGradient().toFloatArray(),
          1e-6f,
          "gradient");
    }
  }

  @Test
  void sigmoidFocalMatchesTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/focal.npz");
      NDArray targets = Fixtures.get(f, "targets");
      float[] params = Fixtures.get(f, "sig_params").toFloatArray();
      for (int p = 0; p < params.length / 2; p++) {
        float alpha = params[2 * p];
        float gamma = params[2 * p + 1];
        checkValueAndGradient(
            manager,
            Fixtures.get(f, "logits"),
            Fixtures.get(f, "weight"),
            x -> DetectionLosses.sigmoidFocal(x, targets, alpha, gamma),
            Fixtures.get(f, "sig_out_p" + p),
            Fixtures.get(f, "sig_grad_p" + p),
            "sigmoidFocal alpha=" + alpha + " gamma=" + gamma);
      }
      // defaults are torchvision's (0.25, 2)
      assertClose(
          Fixtures.get(f, "sig_out_p0"),
          DetectionLosses.sigmoidFocal(Fixtures.get(f, "logits"), targets),
          "sigmoidFocal defaults");
    }
  }

  @Test
  void softmaxFocalMatchesReferenceAndReducesToCrossEntropy() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/loss/focal.npz");
      NDArray logits = Fixtures.get(f, "sm_logits");
      NDArray labels = Fixtures.get(f, "sm_labels");
      float[] params = Fixtures.get(f, "sm_params").toFloatArray();
      for (int p = 0; p < params.length / 2; p++) {
        float alpha = params[2 * p];
        float gamma = params[2 * p + 1];
        checkValueAndGradient(
            manager,
            logits,
            Fixtures.get(f, "sm_weight"),
            x -> DetectionLosses.softmaxFocal(x, labels, alpha, gamma, -1),
            Fixtures.get(f, "sm_out_p" + p),
            Fixtures.get(f, "sm_grad_p" + p),
            "softmaxFocal alpha=" + alpha + " gamma=" + gamma);
      }
      assertClose(
          DetectionLosses.crossEntropy(logits, labels, -1),
          DetectionLosses.softmaxFocal(logits, labels, 1f, 0f, -1),
          "softmaxFocal(1, 0) == crossEntropy");
    }
  }

  @Test
  void rejectsBadInput() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray logits = manager.zeros(new Shape(2, 3, 4));
      IllegalArgumentException shape =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.crossEntropy(
                      logits, manager.zeros(new Shape(2, 4), DataType.INT64), -1));
      assertTrue(shape.getMessage().contains("labels") && shape.getMessage().contains("(2, 4)"));
      IllegalArgumentException range =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.crossEntropy(
                      logits, manager.create(new long[][] {{0, 1, 4}, {0, 0, 0}}), -1));
      assertTrue(range.getMessage().contains("labels") && range.getMessage().contains("4"));
      IllegalArgumentException negative =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.crossEntropy(
                      logits, manager.create(new long[][] {{0, 1, 2}, {0, -3, 0}}), -1));
      assertTrue(negative.getMessage().contains("-3"));
      assertThrows(
          IllegalArgumentException.class,
          () -> DetectionLosses.crossEntropy(logits, manager.zeros(new Shape(2, 3)), -1));
      IllegalArgumentException mismatch =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.smoothL1(
                      manager.zeros(new Shape(3, 4)), manager.zeros(new Shape(4, 3)), 1f));
      assertTrue(mismatch.getMessage().contains("target"));
      IllegalArgumentException beta =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.smoothL1(
                      manager.zeros(new Shape(3)), manager.zeros(new Shape(3)), -1f));
      assertTrue(beta.getMessage().contains("beta"));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              DetectionLosses.binaryCrossEntropyWithLogits(
                  manager.zeros(new Shape(3)), manager.zeros(new Shape(2))));
      IllegalArgumentException gamma =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.sigmoidFocal(
                      manager.zeros(new Shape(3)), manager.zeros(new Shape(3)), 0.25f, -1f));
      assertTrue(gamma.getMessage().contains("gamma"));
      IllegalArgumentException alpha =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  DetectionLosses.softmaxFocal(
                      logits, manager.zeros(new Shape(2, 3), DataType.INT64), -1f, 2f, -1));
      assertTrue(alpha.getMessage().contains("alpha"));
    }
  }
}
