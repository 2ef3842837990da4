package dev.jdetect.models.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.backbone.FoldableConv2d;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.testkit.NDAssertions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A torchvision detector with frozen batch norms loaded through {@code Criteria} with {@code
 * foldBatchNorm=true}: every norm folded, the backbone's output as the unfolded model's, and the
 * loaded model saves exactly the weights it was loaded from.
 */
class FoldedLoadTest {

  private static final String NAME = "fasterrcnn_mobilenet_v3_large_320_fpn";

  @Test
  void foldedLoadKeepsTheSavedWeightsAndTheOutputs(@TempDir Path tmp) throws Exception {
    Path saved = tmp.resolve("saved");
    Path resaved = tmp.resolve("resaved");
    ModelDescription description =
        ModelDescription.builder()
            .setArchitecture(NAME)
            .setClasses(List.of("circle", "square", "triangle"))
            .build();
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = ModelZoo.builtin().create(ModelConfig.of(NAME, 3));
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 320, 320));
      // norm statistics away from the identity, so that folding changes the weights
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
        NDArray a = e.getValue().getArray();
        if (a.getShape().dimension() == 1 && !e.getKey().endsWith("bias")) {
          a.set(manager.randomUniform(0.5f, 1.5f, a.getShape()).toFloatArray());
        }
      }
      SavedModel.save(model, description, saved);
    }
    try (ZooModel<Image, DetectedObjects> plain = SavedModelTest.load(saved, Map.of());
        ZooModel<Image, DetectedObjects> folded =
            SavedModelTest.load(saved, Map.of("foldBatchNorm", "true"));
        NDManager manager = NDManager.newBaseManager();
        Autograd.NoGradient ignored = Autograd.noGradient()) {
      DetectionModel want = ((InferenceBlock) plain.getBlock()).model();
      DetectionModel got = ((InferenceBlock) folded.getBlock()).model();
      int norms = count(got, FrozenBatchNorm2d.class);
      assertEquals(norms, countFolded(got), "every frozen norm folded");
      assertEquals(0, countFolded(want), "not folded without the argument");
      NDArray x = manager.randomUniform(0f, 1f, new Shape(1, 3, 320, 320));
      NDList a =
          ((FasterRcnn) want)
              .getBackbone()
              .forward(new ParameterStore(manager, false), new NDList(x), false);
      NDList b =
          ((FasterRcnn) got)
              .getBackbone()
              .forward(new ParameterStore(manager, false), new NDList(x), false);
      for (int i = 0; i < a.size(); i++) {
        NDAssertions.assertCloseScaled(a.get(i), b.get(i), 1e-5f, "level " + i);
      }
      SavedModel.save(got, description, resaved);
    }
    assertArrayEquals(
        Files.readAllBytes(saved.resolve(ModelDescription.WEIGHTS_FILE)),
        Files.readAllBytes(resaved.resolve(ModelDescription.WEIGHTS_FILE)));
  }

  private static int count(Block block, Class<?> type) {
    int n = type.isInstance(block) ? 1 : 0;
    for (Block child : block.getChildren().values()) {
      n += count(child, type);
    }
    return n;
  }

  private static int countFolded(Block block) {
    int n = block instanceof FoldableConv2d c && c.isFolded() ? 1 : 0;
    for (Block child : block.getChildren().values()) {
      n += countFolded(child);
    }
    return n;
  }
}
