package dev.jdetect.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.rcnn.RcnnFixtures;
import dev.jdetect.models.ssd.MultiBoxLoss;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.SsdLiteTest;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.models.ssd.TinySsd;
import dev.jdetect.models.ssd.VggFeatureExtractor;
import dev.jdetect.testkit.DirectMemoryChurn;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Parameter gradients of each model's training loss must not depend on what the garbage collector
 * does between the forward and the backward pass. On DJL's PyTorch engine an array made from Java
 * data aliases a direct buffer that only its Java wrapper keeps alive; if autograd saved such an
 * array (a scalar of {@code x.mul(2f)}, an index array, ...) and it was closed in the forward pass,
 * backward reads freed memory. Each test computes the gradients twice with identical weights and
 * inputs, once plainly and once with {@link DirectMemoryChurn} between forward and backward, and
 * requires them to be identical.
 */
class AutogradSafetyTest {

  private static final int CHURN_ROUNDS = 3;

  @Test
  void tinySsdMultiBoxLossGradientsSurviveGc() throws Exception {
    checkModel(
        TinySsd.builder()
            .setNumClasses(2)
            .optChannels(new int[] {8, 16, 16}, 16)
            .optLossType(TinySsd.LossType.MULTIBOX)
            .build(),
        new Shape(2, 3, 64, 64),
        AutogradSafetyTest::ssdTargets);
  }

  @Test
  void tinySsdD2lLossGradientsSurviveGc() throws Exception {
    checkModel(
        TinySsd.builder()
            .setNumClasses(2)
            .optChannels(new int[] {8, 16, 16}, 16)
            .optLossType(TinySsd.LossType.D2L)
            .build(),
        new Shape(2, 3, 64, 64),
        AutogradSafetyTest::ssdTargets);
  }

  @Test
  void smallSsdGradientsSurviveGc() throws Exception {
    Ssd model =
        Ssd.builder()
            .setBackbone(
                VggFeatureExtractor.builder()
                    .optWidths(4, 8, 8, 16, 16)
                    .optFcChannels(24)
                    .optExtras(
                        List.of(
                            VggFeatureExtractor.ExtraLayer.of(8, 16, 3, 2, 1),
                            VggFeatureExtractor.ExtraLayer.of(8, 12, 3, 2, 1),
                            VggFeatureExtractor.ExtraLayer.of(8, 12, 3, 1, 0),
                            VggFeatureExtractor.ExtraLayer.of(8, 12, 3, 1, 0)))
                    .build())
            .setNumClasses(3)
            .setAnchorGenerator(DefaultBoxGenerator.ssd300())
            .setTransform(SsdModels.vggTransform(300))
            .optLoss(MultiBoxLoss.builder().optMinNegatives(0).build())
            .build();
    checkModel(model, new Shape(2, 3, 64, 64), AutogradSafetyTest::ssdTargets);
  }

  @Test
  void ssdLiteGradientsSurviveGc() throws Exception {
    checkModel(SsdLiteTest.smallModel(), new Shape(2, 3, 64, 64), AutogradSafetyTest::ssdTargets);
  }

  @Test
  void fasterRcnnGradientsSurviveGc() throws Exception {
    // the two-level fixture model of gen_models_rcnn.py (multi-scale RoIAlign), take-all sampling
    checkModel(
        RcnnFixtures.twoLevel(true), new Shape(2, 3, 72, 96), AutogradSafetyTest::rcnnTargets);
  }

  /** Targets for two 64x64 images: two objects, one object. */
  private static NDList ssdTargets(NDManager m) {
    return Targets.pad(
        m,
        List.of(
            m.create(new float[] {8, 8, 40, 40, 30, 20, 60, 56}, new Shape(2, 4)),
            m.create(new float[] {0, 10, 32, 60}, new Shape(1, 4))),
        List.of(m.create(new long[] {1, 2}), m.create(new long[] {2})));
  }

  /** Targets for two 72x96 images. */
  private static NDList rcnnTargets(NDManager m) {
    return Targets.pad(
        m,
        List.of(
            m.create(new float[] {10, 12, 50, 44, 60, 30, 90, 70}, new Shape(2, 4)),
            m.create(new float[] {40, 20, 90, 66}, new Shape(1, 4))),
        List.of(m.create(new long[] {1, 3}), m.create(new long[] {2})));
  }

  private static void checkModel(
      Block model, Shape inputShape, java.util.function.Function<NDManager, NDList> targets)
      throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(11);
      model.initialize(manager, DataType.FLOAT32, inputShape);
      for (Pair<String, Parameter> p : model.getParameters()) {
        if (p.getValue().requiresGradient()) {
          p.getValue().getArray().setRequiresGradient(true);
        }
      }
      NDArray images = manager.randomUniform(0, 1, inputShape);
      NDList t = targets.apply(manager);
      Map<String, float[]> plain = gradients(model, manager, images, t, false);
      assertFalse(plain.isEmpty(), "no parameter received a gradient");
      boolean anyNonZero = false;
      for (Map.Entry<String, float[]> e : plain.entrySet()) {
        for (float v : e.getValue()) {
          assertTrue(Float.isFinite(v), "non-finite gradient in " + e.getKey());
          anyNonZero |= v != 0f;
        }
      }
      assertTrue(anyNonZero, "all gradients are zero");
      for (int trial = 0; trial < 2; trial++) {
        Map<String, float[]> churned = gradients(model, manager, images, t, true);
        assertEquals(plain.keySet(), churned.keySet());
        for (Map.Entry<String, float[]> e : plain.entrySet()) {
          assertSame(e.getKey(), e.getValue(), churned.get(e.getKey()));
        }
      }
    }
  }

  private static void assertSame(String name, float[] want, float[] got) {
    assertEquals(want.length, got.length, name);
    for (int i = 0; i < want.length; i++) {
      float tol = 1e-6f * Math.max(1f, Math.abs(want[i]));
      if (!(Math.abs(want[i] - got[i]) <= tol)) {
        fail(
            "gradient of "
                + name
                + "["
                + i
                + "] changed when the GC ran before backward: "
                + want[i]
                + " vs "
                + got[i]);
      }
    }
  }

  /**
   * One training step's parameter gradients. The forward pass runs in a sub-manager that is closed
   * (with every intermediate array) before backward, as a trainer's scoped step may do.
   */
  private static Map<String, float[]> gradients(
      Block model, NDManager manager, NDArray images, NDList targets, boolean churn)
      throws Exception {
    ParameterStore ps = new ParameterStore(manager, false);
    Map<String, float[]> out = new LinkedHashMap<>();
    try (NDManager step = manager.newSubManager()) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.zeroGradients();
        NDArray total;
        try (NDManager forward = step.newSubManager()) {
          NDArray x = images.duplicate();
          x.attach(forward);
          NDList t = new NDList(targets.get(0).duplicate(), targets.get(1).duplicate());
          t.attach(forward);
          NDList losses = model.forward(ps, new NDList(x), t, null);
          total = losses.get(0);
          for (int i = 1; i < losses.size(); i++) {
            total = total.add(losses.get(i));
          }
          total.attach(step);
        }
        if (churn) {
          DirectMemoryChurn.churn(CHURN_ROUNDS);
        }
        gc.backward(total);
      }
      for (Pair<String, Parameter> p : model.getParameters()) {
        NDArray w = p.getValue().getArray();
        if (w.hasGradient()) {
          out.put(p.getKey(), w.getGradient().toFloatArray());
        }
      }
    }
    return out;
  }
}
