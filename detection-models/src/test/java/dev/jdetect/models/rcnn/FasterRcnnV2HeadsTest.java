package dev.jdetect.models.rcnn;

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
import ai.djl.nn.Block;
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

/**
 * The heads of torchvision's {@code fasterrcnn_resnet50_fpn_v2} on the same weights and inputs
 * (src/fixtures/gen_models_rcnn_v2.py): outputs in eval and train mode, parameter and input
 * gradients, and the batch norms' running statistics after a training pass.
 */
@ExtendWith(NDManagerExtension.class)
class FasterRcnnV2HeadsTest {

  private static void assertMatches(Block block, String file, int numInputs, NDManager manager) {
    NDList fixture = Fixtures.load(manager, "/fixtures/rcnn/" + file + ".npz");
    Map<String, NDArray> weights = new LinkedHashMap<>();
    for (NDArray a : fixture) {
      if (a.getName().startsWith("param.")) {
        weights.put(a.getName().substring("param.".length()), a);
      }
    }
    NDList inputs = new NDList();
    for (int i = 0; i < numInputs; i++) {
      inputs.add(Fixtures.get(fixture, "in_" + i));
    }
    block.initialize(manager, DataType.FLOAT32, inputs.getShapes());
    ImportReport report = WeightImport.load(block, StateDict.of(weights));
    assertTrue(report.isComplete(), report.toString());

    ParameterStore ps = new ParameterStore(manager, false);
    NDList eval = block.forward(ps, inputs, false);
    for (int k = 0; k < eval.size(); k++) {
      assertClose(Fixtures.get(fixture, "eval_out_" + k), eval.get(k), 1e-5f, "eval output " + k);
    }

    Map<String, Parameter> params = new LinkedHashMap<>(TorchvisionNames.of(block));
    Map<String, Parameter> stats = new LinkedHashMap<>(params);
    params.values().removeIf(p -> !p.requiresGradient());
    stats.keySet().removeIf(k -> !k.contains("running_"));
    for (Parameter p : params.values()) {
      p.getArray().setRequiresGradient(true);
    }
    for (NDArray x : inputs) {
      x.setRequiresGradient(true);
    }
    NDList train;
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      train = block.forward(ps, inputs, true);
      NDArray loss = null;
      for (int k = 0; k < train.size(); k++) {
        NDArray term = train.get(k).mul(Fixtures.get(fixture, "weight_" + k)).sum();
        loss = loss == null ? term : loss.add(term);
      }
      gc.backward(loss);
    }
    assertEquals(eval.size(), train.size());
    for (int k = 0; k < train.size(); k++) {
      assertClose(Fixtures.get(fixture, "train_out_" + k), train.get(k), 1e-5f, "train " + k);
    }
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String key = "grad." + e.getKey();
      NDArray want = Fixtures.get(fixture, key);
      NDArray got = e.getValue().getArray().getGradient().reshape(want.getShape());
      assertCloseScaled(want, got, 2e-5f, key);
    }
    for (int i = 0; i < numInputs; i++) {
      NDArray want = Fixtures.get(fixture, "grad_in_" + i);
      assertCloseScaled(want, inputs.get(i).getGradient(), 2e-5f, "input gradient " + i);
    }
    for (Map.Entry<String, Parameter> e : stats.entrySet()) {
      String key = "after." + e.getKey();
      assertClose(Fixtures.get(fixture, key), e.getValue().getArray(), 1e-6f, key);
    }
  }

  @Test
  void rpnHeadOfDepthTwoMatchesTorchvision(NDManager manager) {
    RpnHead head = RpnHead.builder().setInChannels(8).setNumAnchors(3).optConvDepth(2).build();
    assertMatches(head, "rpn_depth2", 2, manager);
    assertTrue(TorchvisionNames.of(head).containsKey("conv.1.0.weight"));
  }

  @Test
  void convFcHeadMatchesTorchvision(NDManager manager) {
    FastRcnnConvFcHead head =
        FastRcnnConvFcHead.builder()
            .setConvChannels(8, 8)
            .setFcUnits(16)
            .optBatchNorm(true)
            .build();
    assertMatches(head, "conv_fc_head", 1, manager);
    assertEquals(16, head.getUnits());
    // torchvision's sequential numbering: two conv stacks, the flatten at 2, the linear at 3
    assertEquals(
        java.util.List.of(
            "0.0.weight",
            "0.1.weight",
            "0.1.bias",
            "0.1.running_mean",
            "0.1.running_var",
            "1.0.weight",
            "1.1.weight",
            "1.1.bias",
            "1.1.running_mean",
            "1.1.running_var",
            "3.weight",
            "3.bias"),
        java.util.List.copyOf(TorchvisionNames.of(head).keySet()));
  }

  @Test
  void convFcHeadRejectsBadSettings() {
    assertThrows(
        IllegalArgumentException.class,
        () -> FastRcnnConvFcHead.builder().setConvChannels(8).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> FastRcnnConvFcHead.builder().setConvChannels(0).setFcUnits(4).build());
  }
}
