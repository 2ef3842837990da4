package dev.jdetect.models.neck;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static dev.jdetect.testkit.NDAssertions.assertCloseScaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** torchvision's FeaturePyramidNetwork on the same weights and inputs (gen_models_fpn.py). */
@ExtendWith(NDManagerExtension.class)
class FeaturePyramidNetworkTest {

  private static FeaturePyramidNetwork build(String name) {
    FeaturePyramidNetwork.Builder b =
        FeaturePyramidNetwork.builder().setInChannels(8, 16, 24).setOutChannels(8);
    switch (name) {
      case "maxpool":
        return b.optExtraBlocks(new LastLevelMaxPool()).build();
      case "bn_c5":
        return b.optBatchNorm(true).optExtraBlocks(new LastLevelP6P7(24, 8)).build();
      case "p5":
        return b.optExtraBlocks(new LastLevelP6P7(8, 8)).build();
      default:
        throw new IllegalArgumentException(name);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"maxpool", "bn_c5", "p5"})
  void outputsAndGradientsMatchTorchvision(String name, NDManager manager) {
    NDList fixture = Fixtures.load(manager, "/fixtures/fpn/" + name + ".npz");
    Map<String, NDArray> weights = new LinkedHashMap<>();
    NDList inputs = new NDList();
    for (NDArray a : fixture) {
      if (a.getName().startsWith("param.")) {
        weights.put(a.getName().substring("param.".length()), a);
      }
    }
    for (int i = 0; i < 3; i++) {
      inputs.add(Fixtures.get(fixture, "in_" + i));
    }
    FeaturePyramidNetwork fpn = build(name);
    Shape[] shapes = inputs.getShapes();
    fpn.initialize(manager, DataType.FLOAT32, shapes);
    ImportReport report = WeightImport.load(fpn, StateDict.of(weights));
    assertTrue(report.isComplete(), report.toString());
    int levels = fpn.numLevels();
    Shape[] predicted = fpn.getOutputShapes(shapes);
    assertEquals(levels, predicted.length);

    ParameterStore ps = new ParameterStore(manager, false);
    NDList eval = fpn.forward(ps, inputs, false);
    assertEquals(levels, eval.size());
    for (int k = 0; k < levels; k++) {
      assertEquals(predicted[k], eval.get(k).getShape(), "shape of level " + k);
      assertClose(Fixtures.get(fixture, "eval_out_" + k), eval.get(k), 1e-5f, "eval level " + k);
    }

    Map<String, Parameter> params = new LinkedHashMap<>(TorchvisionNames.of(fpn));
    params.values().removeIf(p -> !p.requiresGradient()); // BN running statistics
    for (Parameter p : params.values()) {
      p.getArray().setRequiresGradient(true);
    }
    for (NDArray x : inputs) {
      x.setRequiresGradient(true);
    }
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDList train = fpn.forward(ps, inputs, true);
      NDArray loss = null;
      for (int k = 0; k < levels; k++) {
        assertClose(
            Fixtures.get(fixture, "train_out_" + k), train.get(k), 1e-5f, "train level " + k);
        NDArray term = train.get(k).mul(Fixtures.get(fixture, "weight_" + k)).sum();
        loss = loss == null ? term : loss.add(term);
      }
      gc.backward(loss);
    }
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String key = "grad." + e.getKey();
      NDArray want = Fixtures.get(fixture, key);
      NDArray got = e.getValue().getArray().getGradient().reshape(want.getShape());
      assertCloseScaled(want, got, 2e-5f, key);
    }
    for (int i = 0; i < 3; i++) {
      NDArray want = Fixtures.get(fixture, "grad_in_" + i);
      assertClose(want, inputs.get(i).getGradient(), 2e-5f, "input gradient " + i);
    }
  }

  @Test
  void namesAreTorchvisions() {
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(4, 8)
            .setOutChannels(4)
            .optBatchNorm(true)
            .optExtraBlocks(new LastLevelP6P7(8, 4))
            .build();
    try (NDManager manager = NDManager.newBaseManager()) {
      fpn.initialize(manager, DataType.FLOAT32, new Shape(1, 4, 8, 8), new Shape(1, 8, 4, 4));
      assertEquals(
          java.util.List.of(
              "inner_blocks.0.0.weight",
              "inner_blocks.0.1.weight",
              "inner_blocks.0.1.bias",
              "inner_blocks.0.1.running_mean",
              "inner_blocks.0.1.running_var",
              "inner_blocks.1.0.weight",
              "inner_blocks.1.1.weight",
              "inner_blocks.1.1.bias",
              "inner_blocks.1.1.running_mean",
              "inner_blocks.1.1.running_var",
              "layer_blocks.0.0.weight",
              "layer_blocks.0.1.weight",
              "layer_blocks.0.1.bias",
              "layer_blocks.0.1.running_mean",
              "layer_blocks.0.1.running_var",
              "layer_blocks.1.0.weight",
              "layer_blocks.1.1.weight",
              "layer_blocks.1.1.bias",
              "layer_blocks.1.1.running_mean",
              "layer_blocks.1.1.running_var",
              "extra_blocks.p6.weight",
              "extra_blocks.p6.bias",
              "extra_blocks.p7.weight",
              "extra_blocks.p7.bias"),
          java.util.List.copyOf(TorchvisionNames.of(fpn).keySet()));
    }
  }

  @Test
  void badSettingsAndInputsAreRefused(NDManager manager) {
    assertThrows(
        IllegalArgumentException.class,
        () -> FeaturePyramidNetwork.builder().setOutChannels(8).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> FeaturePyramidNetwork.builder().setInChannels(8, 0).setOutChannels(8).build());
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder().setInChannels(4, 8).setOutChannels(4).build();
    fpn.initialize(manager, DataType.FLOAT32, new Shape(1, 4, 8, 8), new Shape(1, 8, 4, 4));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                fpn.forward(
                    new ParameterStore(manager, false),
                    new NDList(manager.zeros(new Shape(1, 4, 8, 8))),
                    false));
    assertTrue(e.getMessage().contains("takes 2 feature maps"), e.getMessage());
  }
}
