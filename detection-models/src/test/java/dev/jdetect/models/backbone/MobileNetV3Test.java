package dev.jdetect.models.backbone;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static dev.jdetect.testkit.NDAssertions.assertCloseScaled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** torchvision's MobileNetV3 features on a short table (gen_models_mobilenetv3.py). */
@ExtendWith(NDManagerExtension.class)
class MobileNetV3Test {

  private static final int[] RETURNED = {2, 4, 6};

  private static MobileNetV3 smallTable() {
    List<MobileNetV3.Stage> table =
        List.of(
            new MobileNetV3.Stage(16, 3, 16, 16, false, false, 1, 1),
            new MobileNetV3.Stage(16, 3, 40, 24, false, false, 2, 1),
            new MobileNetV3.Stage(24, 5, 48, 24, true, false, 1, 1),
            new MobileNetV3.Stage(24, 3, 48, 32, true, true, 2, 1),
            new MobileNetV3.Stage(32, 5, 64, 32, true, true, 1, 2));
    return MobileNetV3.builder().optStages(table).optReturnedIndices(RETURNED).build();
  }

  @Test
  void outputsAndGradientsMatchTorchvision(NDManager manager) {
    NDList fixture = Fixtures.load(manager, "/fixtures/backbone/mobilenetv3_small_table.npz");
    Map<String, NDArray> weights = new LinkedHashMap<>();
    for (NDArray a : fixture) {
      if (a.getName().startsWith("param.")) {
        weights.put(a.getName().substring("param.".length()), a);
      }
    }
    NDArray images = Fixtures.get(fixture, "images");
    MobileNetV3 net = smallTable();
    net.initialize(manager, DataType.FLOAT32, images.getShape());
    ImportReport report = WeightImport.load(net, StateDict.of(weights));
    assertTrue(report.isComplete(), report.toString());
    assertArrayEquals(new int[] {24, 32, 192}, net.outChannels());
    assertArrayEquals(new int[] {4, 8, 8}, net.strides());

    ParameterStore ps = new ParameterStore(manager, false);
    NDList eval = net.forward(ps, new NDList(images), false);
    Shape[] predicted = net.getOutputShapes(new Shape[] {images.getShape()});
    for (int k = 0; k < RETURNED.length; k++) {
      assertEquals(predicted[k], eval.get(k).getShape());
      assertClose(Fixtures.get(fixture, "eval_" + RETURNED[k]), eval.get(k), 2e-5f, "eval " + k);
    }

    Map<String, Parameter> params = new LinkedHashMap<>(TorchvisionNames.of(net));
    params.values().removeIf(p -> !p.requiresGradient());
    for (Parameter p : params.values()) {
      p.getArray().setRequiresGradient(true);
    }
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDList train = net.forward(ps, new NDList(images), true);
      NDArray loss = null;
      for (NDArray r : train) {
        NDArray term = r.mul(r).sum();
        loss = loss == null ? term : loss.add(term);
      }
      gc.backward(loss);
    }
    assertEquals(
        fixture.stream().filter(a -> a.getName().startsWith("grad.")).count(), params.size());
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      NDArray want = Fixtures.get(fixture, "grad." + e.getKey());
      NDArray got = e.getValue().getArray().getGradient().reshape(want.getShape());
      assertCloseScaled(want, got, 1e-4f, "grad." + e.getKey());
    }
  }

  @Test
  void largeTableIsTorchvisions() {
    List<MobileNetV3.Stage> large = MobileNetV3.large(1.0, true, false);
    assertEquals(15, large.size());
    assertEquals(new MobileNetV3.Stage(112, 5, 672, 80, true, true, 2, 1), large.get(12));
    assertEquals(new MobileNetV3.Stage(80, 5, 480, 80, true, true, 1, 1), large.get(14));
    MobileNetV3 body =
        MobileNetV3.builder()
            .optStages(large)
            .optFrozenBatchNorm(true)
            .optReturnedIndices(13, 16)
            .build();
    assertArrayEquals(new int[] {80, 480}, body.outChannels());
    assertArrayEquals(new int[] {32, 32}, body.strides());
    // width 0.75: torchvision's _make_divisible keeps 90% of each width
    assertEquals(
        new MobileNetV3.Stage(16, 3, 48, 24, false, false, 2, 1),
        MobileNetV3.large(0.75, false, false).get(1));
  }

  @Test
  void trainableLayersFreezeAsTorchvision(NDManager manager) {
    // stages start at children 0, 2, 4, 7, 13, 16: three trainable stages freeze children 0..6
    MobileNetV3 net = MobileNetV3.builder().optTrainableLayers(3).build();
    net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(net).entrySet()) {
      int child = Integer.parseInt(e.getKey().substring(0, e.getKey().indexOf('.')));
      boolean trains = e.getValue().requiresGradient();
      boolean statistic = e.getKey().contains("running_");
      if (!statistic) {
        assertEquals(child >= 7, trains, e.getKey());
      }
    }
    assertThrows(
        IllegalArgumentException.class, () -> MobileNetV3.builder().optTrainableLayers(7).build());
  }
}
