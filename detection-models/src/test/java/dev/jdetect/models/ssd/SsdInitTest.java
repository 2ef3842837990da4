package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.models.weights.TorchvisionNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A freshly built SSD is initialised like torchvision's (Kaiming fan-out VGG, Xavier extras and
 * heads), so it trains from scratch without diverging; a diverged model is reported as such.
 */
class SsdInitTest {

  @Test
  void freshSsd300WeightsFollowTorchvisionInitialisation() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(7);
      Ssd model = SsdModels.ssd300Vgg16(90);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 300, 300));
      Map<String, Parameter> p = TorchvisionNames.of(model);
      // kaiming_normal_(fan_out, relu): std = sqrt(2 / (out * k * k))
      assertStd(p, "backbone.features.0.weight", Math.sqrt(2.0 / (64 * 9)));
      assertStd(p, "backbone.features.21.weight", Math.sqrt(2.0 / (512 * 9)));
      assertStd(p, "backbone.extra.0.5.weight", Math.sqrt(2.0 / (512 * 9)));
      // xavier_uniform_: U(-b, b), b = sqrt(6 / (fan_in + fan_out)), std b / sqrt(3)
      assertXavier(p, "backbone.extra.0.7.1.weight", 512 * 9, 1024 * 9);
      assertXavier(p, "backbone.extra.0.7.3.weight", 1024, 1024);
      assertXavier(p, "backbone.extra.1.0.weight", 1024, 256);
      assertXavier(p, "backbone.extra.4.2.weight", 128 * 9, 256 * 9);
      assertXavier(p, "head.classification_head.module_list.0.weight", 512 * 9, 4 * 91 * 9);
      assertXavier(p, "head.regression_head.module_list.5.weight", 256 * 9, 4 * 4 * 9);
      for (String bias :
          List.of(
              "backbone.features.0.bias",
              "backbone.extra.0.7.1.bias",
              "head.classification_head.module_list.0.bias")) {
        assertEquals(0f, p.get(bias).getArray().abs().max().getFloat(), bias);
      }
      assertEquals(20f, p.get("backbone.scale_weight").getArray().min().getFloat());

      // Outputs and first loss on a U(0, 1) image fall where torchvision's freshly initialised
      // ssd300_vgg16 puts them (16 seeds, src/fixtures/gen_models_ssd_init.py); DJL's default
      // initialisation gives mean |logit| ~60 and losses in the thousands.
      Map<String, NDArray> ref = SmallSsd.npz(manager, "/fixtures/ssd/ssd300_init_stats.npz");
      NDArray image = manager.randomUniform(0f, 1f, new Shape(1, 3, 300, 300));
      ParameterStore ps = new ParameterStore(manager, false);
      NDList raw = model.forwardHeads(ps, image, false);
      assertWithinTorchvision(ref, "mean_abs_logit", raw.get(0).abs().mean().getFloat());
      assertWithinTorchvision(ref, "mean_abs_delta", raw.get(1).abs().mean().getFloat());
      NDList target =
          Targets.pad(
              manager,
              List.of(manager.create(new float[][] {{20, 30, 140, 170}, {150, 150, 290, 260}})),
              List.of(manager.create(new long[] {1, 3})));
      NDList losses = model.forward(ps, new NDList(image), target, null);
      assertWithinTorchvision(
          ref, "first_loss", losses.get(0).getFloat() + losses.get(1).getFloat());
    }
  }

  /**
   * Asserts that a value lies within the range torchvision's seeds span, widened by a quarter on
   * either side.
   */
  private static void assertWithinTorchvision(Map<String, NDArray> ref, String key, float value) {
    float min = ref.get(key).min().getFloat();
    float max = ref.get(key).max().getFloat();
    assertTrue(
        value >= 0.8f * min && value <= 1.25f * max,
        key + " " + value + " outside torchvision's [" + min + ", " + max + "] (+-25%)");
  }

  /**
   * The mean |output| that a freshly initialised head convolution (xavier_uniform_, zero bias)
   * gives on these features: every output is a sum of {@code 9 C} weights of standard deviation
   * {@code sqrt(2 / (fan_in + fan_out))} times a fixed input patch, so it is close to normal with
   * mean |.| {@code sqrt(2 / pi) * std * ||patch||}; averaged over positions and levels, weighted
   * by each level's number of outputs.
   */
  private static double expectedMeanAbs(NDList features, int[] anchors, int columns) {
    double sum = 0;
    double count = 0;
    for (int i = 0; i < features.size(); i++) {
      NDArray f = features.get(i);
      long c = f.getShape().get(1);
      double std = Math.sqrt(2.0 / (c * 9 + (double) anchors[i] * columns * 9));
      NDArray ones = f.getManager().ones(new Shape(1, c, 3, 3));
      NDArray patchNorm =
          Conv2d.conv2d(
                  f.square(), ones, null, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
              .head()
              .sqrt();
      double n = (double) patchNorm.size() * anchors[i] * columns;
      sum += n * Math.sqrt(2 / Math.PI) * std * patchNorm.mean().getFloat();
      count += n;
    }
    return sum / count;
  }

  @Test
  void freshSmallSsdHasModerateLogitsAndTrainsWithFiniteLosses() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(11);
      Ssd model =
          Ssd.builder()
              .setBackbone(SmallSsd.backbone())
              .setNumClasses(SmallSsd.NUM_CLASSES)
              .setAnchorGenerator(DefaultBoxGenerator.ssd300())
              .setTransform(SsdModels.vggTransform(300))
              .build();
      NDArray images = manager.randomUniform(0f, 1f, new Shape(2, 3, 300, 300));
      model.initialize(manager, DataType.FLOAT32, images.getShape());
      ParameterStore ps = new ParameterStore(manager, false);
      try (NDManager scope = manager.newSubManager()) {
        NDList raw = model.forwardHeads(ps, images, false);
        raw.attach(scope);
        NDList features =
            model.backbone().forward(ps, new NDList(model.transform().apply(images)), false);
        features.attach(scope);
        int[] anchors = model.anchorGenerator().numAnchorsPerLocation();
        // the heads' outputs have the spread their xavier_uniform_ weights give on these features
        double logits = expectedMeanAbs(features, anchors, SmallSsd.NUM_CLASSES + 1);
        double deltas = expectedMeanAbs(features, anchors, 4);
        float meanLogit = raw.get(0).abs().mean().getFloat();
        float meanDelta = raw.get(1).abs().mean().getFloat();
        assertEquals(logits, meanLogit, 0.25 * logits, "mean |cls_logits|");
        assertEquals(deltas, meanDelta, 0.25 * deltas, "mean |bbox_regression|");
      }
      List<NDArray> boxes = new ArrayList<>();
      List<NDArray> labels = new ArrayList<>();
      boxes.add(manager.create(new float[][] {{20, 30, 140, 170}, {150, 150, 290, 260}}));
      labels.add(manager.create(new long[] {1, 3}));
      boxes.add(manager.create(new float[][] {{60, 40, 120, 110}}));
      labels.add(manager.create(new long[] {2}));
      NDList targets = Targets.pad(manager, boxes, labels);
      Map<String, Parameter> params = TorchvisionNames.of(model);
      Optimizer sgd =
          Optimizer.sgd().setLearningRateTracker(Tracker.fixed(1e-3f)).optMomentum(0.9f).build();
      float first = Float.NaN;
      float last = Float.NaN;
      for (int step = 0; step < 4; step++) {
        try (NDManager scope = manager.newSubManager()) {
          float total;
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDList losses = model.forward(ps, new NDList(images), targets, null);
            losses.attach(scope);
            assertTrue(Float.isFinite(losses.get(0).getFloat()), "box loss at step " + step);
            assertTrue(Float.isFinite(losses.get(1).getFloat()), "class loss at step " + step);
            NDArray sum = losses.get(0).add(losses.get(1));
            total = sum.getFloat();
            gc.backward(sum);
          }
          if (step == 0) {
            first = total;
          }
          last = total;
          for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray w = e.getValue().getArray();
            NDArray grad = w.getGradient();
            float g = grad.abs().max().getFloat();
            assertTrue(Float.isFinite(g), "gradient of " + e.getKey() + " at step " + step);
            sgd.update(e.getValue().getId(), w, grad);
            grad.set(new NDIndex("..."), 0f);
          }
        }
      }
      assertTrue(last < first, "loss went from " + first + " to " + last);
    }
  }

  @Test
  void nonFiniteHeadOutputsAreReportedAsDivergence() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray anchors =
          manager.create(new float[][] {{0, 0, 10, 10}, {5, 5, 20, 20}, {10, 0, 30, 12}});
      NDArray logits = manager.zeros(new Shape(1, 3, 3));
      logits.set(new NDIndex("0, 1, 2"), Float.NaN);
      NDArray deltas = manager.zeros(new Shape(1, 3, 4));
      List<ImageTargets> targets =
          List.of(
              new ImageTargets(
                  manager.create(new float[][] {{0, 0, 10, 9}}), manager.create(new long[] {1})));
      MultiBoxLoss loss = MultiBoxLoss.builder().build();
      ArithmeticException e =
          assertThrows(
              ArithmeticException.class, () -> loss.compute(logits, deltas, anchors, targets));
      assertTrue(e.getMessage().contains("diverged"), e.getMessage());
      assertTrue(e.getMessage().contains("cls_logits"), e.getMessage());
      assertTrue(!e.getMessage().contains("bbox_regression"), e.getMessage());

      NDArray okLogits = manager.zeros(new Shape(1, 3, 3));
      NDArray badDeltas = manager.zeros(new Shape(1, 3, 4));
      badDeltas.set(new NDIndex("0, 0, 1"), Float.POSITIVE_INFINITY);
      e =
          assertThrows(
              ArithmeticException.class, () -> loss.compute(okLogits, badDeltas, anchors, targets));
      assertTrue(e.getMessage().contains("bbox_regression"), e.getMessage());
      // finite outputs still give finite losses
      NDList ok = loss.compute(okLogits, deltas, anchors, targets);
      assertTrue(Float.isFinite(ok.get(0).getFloat()) && Float.isFinite(ok.get(1).getFloat()));
    }
  }

  private static void assertStd(Map<String, Parameter> params, String name, double expected) {
    NDArray w = params.get(name).getArray();
    NDArray centred = w.sub(w.mean());
    double std = Math.sqrt(centred.square().mean().getFloat());
    assertEquals(expected, std, 0.08 * expected, name + " std");
    assertTrue(Math.abs(w.mean().getFloat()) < 0.1 * expected, name + " mean");
  }

  private static void assertXavier(
      Map<String, Parameter> params, String name, int fanIn, int fanOut) {
    double bound = Math.sqrt(6.0 / (fanIn + fanOut));
    NDArray w = params.get(name).getArray();
    assertTrue(w.abs().max().getFloat() <= bound * (1 + 1e-6), name + " exceeds xavier bound");
    assertStd(params, name, bound / Math.sqrt(3));
  }
}
