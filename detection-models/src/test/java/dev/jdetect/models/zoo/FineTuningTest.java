package dev.jdetect.models.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.weights.WeightImportException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * torchvision's fine-tuning recipe: a new box predictor, everything else from the COCO checkpoint,
 * the first backbone stages frozen as torchvision freezes them (gen_models_zoo.py's {@code
 * <builder>.trainable.txt}).
 */
class FineTuningTest {

  private static final Shape INIT = new Shape(1, 3, 64, 64);

  private static String builderName(FineTuning.Checkpoint c) {
    switch (c) {
      case RESNET50_FPN:
        return "fasterrcnn_resnet50_fpn";
      case RESNET50_FPN_V2:
        return "fasterrcnn_resnet50_fpn_v2";
      case MOBILENET_V3_LARGE_FPN:
        return "fasterrcnn_mobilenet_v3_large_fpn";
      default:
        return "fasterrcnn_mobilenet_v3_large_320_fpn";
    }
  }

  @ParameterizedTest
  @EnumSource(FineTuning.Checkpoint.class)
  void trainableParametersAreTorchvisions(FineTuning.Checkpoint checkpoint) throws IOException {
    String builder = builderName(checkpoint);
    List<String> want;
    try (InputStream in =
        FineTuningTest.class.getResourceAsStream("/fixtures/zoo/" + builder + ".trainable.txt")) {
      want = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
    }
    // names and flags only: the block tree, no initialisation needed
    FasterRcnn model = FineTuning.model(checkpoint, 90, 3);
    List<String> got = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
      if (e.getValue().requiresGradient()) {
        got.add(e.getKey());
      }
    }
    assertEquals(want, got, builder);
  }

  /** A COCO model's parameters as a state dict, one of them under its pre-0.13 FPN name. */
  private static StateDict coco(NDManager manager) {
    FasterRcnn coco = TorchvisionDetectors.fasterRcnnMobileNetV3Large320Fpn(90, 3);
    coco.initialize(manager, DataType.FLOAT32, INIT);
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(coco).entrySet()) {
      arrays.put(
          e.getKey().replace("fpn.inner_blocks.1.0.", "fpn.inner_blocks.1."),
          e.getValue().getArray());
    }
    return StateDict.of(arrays);
  }

  @Test
  void everythingButThePredictorComesFromTheCheckpoint() {
    try (NDManager manager = NDManager.newBaseManager()) {
      StateDict coco = coco(manager);
      FasterRcnn model = FineTuning.model(FineTuning.Checkpoint.MOBILENET_V3_LARGE_320_FPN, 4, 3);
      model.initialize(manager, DataType.FLOAT32, INIT);
      Map<String, float[]> before = new LinkedHashMap<>();
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
        if (e.getKey().startsWith(FineTuning.PREDICTOR)) {
          before.put(e.getKey(), e.getValue().getArray().toFloatArray());
        }
      }
      ImportReport report = FineTuning.loadAllButPredictor(model, coco);
      int compared = 0;
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
        String name = e.getKey();
        if (name.startsWith(FineTuning.PREDICTOR)) {
          float[] now = e.getValue().getArray().toFloatArray();
          assertArrayEquals(before.get(name), now, name + " keeps its initial values");
          assertFalse(report.loaded().contains(name), name);
          continue;
        }
        String stored = name.replace("fpn.inner_blocks.1.0.", "fpn.inner_blocks.1.");
        assertTrue(coco.get(stored).contentEquals(e.getValue().getArray()), name);
        compared++;
      }
      assertEquals(report.loaded().size(), compared);
      assertTrue(report.missing().isEmpty() && report.unexpected().isEmpty(), report.toString());
      Map<String, Parameter> names = TorchvisionNames.of(model);
      assertEquals(
          new Shape(5, 1024), names.get("roi_heads.box_predictor.cls_score.weight").getShape());
      assertEquals(
          new Shape(20, 1024), names.get("roi_heads.box_predictor.bbox_pred.weight").getShape());
    }
  }

  @Test
  void aTensorMissingOutsideThePredictorIsAnError() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> arrays = new LinkedHashMap<>(coco(manager).arrays());
      arrays.remove("rpn.head.conv.0.0.weight");
      FasterRcnn model = FineTuning.model(FineTuning.Checkpoint.MOBILENET_V3_LARGE_320_FPN, 4, 3);
      model.initialize(manager, DataType.FLOAT32, INIT);
      WeightImportException e =
          assertThrows(
              WeightImportException.class,
              () -> FineTuning.loadAllButPredictor(model, StateDict.of(arrays)));
      assertTrue(e.getMessage().contains("rpn.head.conv.0.0.weight"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> FineTuning.model(FineTuning.Checkpoint.RESNET50_FPN, 0, 3));
    }
  }

  @Test
  void frozenParametersGetNoGradient() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(3);
      FasterRcnn model = FineTuning.model(FineTuning.Checkpoint.MOBILENET_V3_LARGE_320_FPN, 2, 3);
      model.initialize(manager, DataType.FLOAT32, INIT);
      NDArray images = manager.randomUniform(0f, 1f, new Shape(1, 3, 64, 80));
      ParameterStore ps = new ParameterStore(manager, false);
      // the frozen stages are all in the backbone: a loss on the pyramid's levels reaches them all
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList levels = model.features(ps, model.transform(new NDList(images)), true);
        NDArray total = levels.get(0).mean();
        for (int i = 1; i < levels.size(); i++) {
          total = total.add(levels.get(i).mean());
        }
        gc.backward(total);
      }
      int frozen = 0;
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
        NDArray a = e.getValue().getArray();
        if (!e.getValue().requiresGradient()) {
          assertFalse(a.hasGradient(), e.getKey() + " is frozen");
          frozen++;
        } else if (e.getKey().startsWith("backbone.body.")) {
          assertTrue(a.getGradient().abs().sum().getFloat() > 0, e.getKey() + " trains");
        }
      }
      // children 0 to 6 of MobileNetV3: their convolutions and frozen norms
      assertTrue(frozen > 50, "frozen parameters: " + frozen);
      assertFalse(
          TorchvisionNames.of(model).get("backbone.body.6.block.0.0.weight").requiresGradient());
      assertTrue(
          TorchvisionNames.of(model).get("backbone.body.7.block.0.0.weight").requiresGradient());
    }
  }
}
