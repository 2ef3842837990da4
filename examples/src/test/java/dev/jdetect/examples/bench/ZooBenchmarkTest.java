package dev.jdetect.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.backbone.FrozenBatchNormFolding;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The jdetect side of {@link ZooBenchmark} on small models: stage splits, train step, agreement.
 */
class ZooBenchmarkTest {

  private static DetectionModel model(String name, NDManager manager) {
    DetectionModel model = ModelZoo.builtin().create(ModelConfig.of(name, 3));
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 320, 320));
    return model;
  }

  @Test
  void splitsNameEveryStageOfTheirModel() {
    Map<String, List<String>> stages =
        Map.of(
            "fasterrcnn_mobilenet_v3_large_320_fpn",
            List.of("transform", "backbone", "fpn", "rpn", "roi", "box_head", "post"),
            "retinanet-small",
            List.of("features", "head", "post"),
            "fcos-small",
            List.of("features", "head", "post"));
    try (NDManager manager = NDManager.newBaseManager();
        Autograd.NoGradient ignored = Autograd.noGradient()) {
      NDArray image = manager.randomUniform(0f, 1f, new Shape(3, 200, 300));
      for (Map.Entry<String, List<String>> e : stages.entrySet()) {
        DetectionModel model = model(e.getKey(), manager);
        if (e.getKey().startsWith("fasterrcnn")) {
          assertTrue(FrozenBatchNormFolding.fold(model) > 40, "folds the frozen backbone");
        }
        Map<String, Double> split =
            ZooBenchmark.splitOnce(model, new ParameterStore(manager, false), image);
        assertEquals(e.getValue(), List.copyOf(split.keySet()), e.getKey());
        for (double ms : split.values()) {
          assertTrue(ms >= 0, e.getKey() + " " + split);
        }
      }
    }
  }

  /** Photos of two sizes: SSD models get them resized to their one input size first. */
  @ParameterizedTest
  @ValueSource(strings = {"fcos-small", "ssd-small"})
  void aTrainStepMovesTheWeights(String name) {
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = model(name, manager);
      NDArray before = model.getParameters().get(0).getValue().getArray().duplicate();
      ZooBenchmark bench = new ZooBenchmark();
      double ms =
          bench.trainStep(
              manager,
              model,
              new ParameterStore(manager, false),
              manager.randomUniform(0f, 1f, new Shape(3, 400, 600)),
              manager.randomUniform(0f, 1f, new Shape(3, 512, 512)));
      assertTrue(ms > 0);
      NDArray after = model.getParameters().get(0).getValue().getArray();
      assertTrue(before.sub(after).abs().max().getFloat() > 0, "SGD changed the first weight");
    }
  }

  @Test
  void agreementCountsAndMeasuresBoxes() {
    ZooBenchmark.Found a =
        new ZooBenchmark.Found(
            new float[] {0, 0, 10, 10, 5, 5, 20, 20}, new float[] {0.9f, 0.5f}, new long[] {1, 2});
    ZooBenchmark.Found b =
        new ZooBenchmark.Found(
            new float[] {5, 5, 20, 20.5f, 0, 0, 10, 10},
            new float[] {0.5f, 0.9f},
            new long[] {2, 1});
    assertEquals(
        "2 on both sides, 1 matched: max box diff 0.00e+00 px, max score diff 0.00e+00;"
            + " 1 without a match within 1e-02 px, each scored within Infinity of another"
            + " detection of its label",
        ZooBenchmark.agreement(a, b));
    // two label-1 detections scored alike, listed in the other order and the second box moved
    // a little: the moved one matches within tolerance and reports its difference
    ZooBenchmark.Found tiedOurs =
        new ZooBenchmark.Found(
            new float[] {0, 0, 10, 10, 50, 0, 60, 10}, new float[] {0.3f, 0.3f}, new long[] {1, 1});
    ZooBenchmark.Found tiedTheirs =
        new ZooBenchmark.Found(
            new float[] {50, 0, 60, 10.005f, 80, 0, 90, 10},
            new float[] {0.3f, 0.30001f},
            new long[] {1, 1});
    assertEquals(
        "2 on both sides, 1 matched: max box diff 5.00e-03 px, max score diff 0.00e+00;"
            + " 1 without a match within 1e-02 px, each scored within 1.0e-05 of another"
            + " detection of its label",
        ZooBenchmark.agreement(tiedOurs, tiedTheirs));
    ZooBenchmark.Found one =
        new ZooBenchmark.Found(new float[] {0, 0, 1, 1}, new float[] {1}, new long[] {1});
    assertEquals("DIFFER: 2 jdetect vs 1 torchvision", ZooBenchmark.agreement(a, one));
  }
}
