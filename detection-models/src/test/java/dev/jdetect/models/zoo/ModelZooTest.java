package dev.jdetect.models.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.dense.Fcos;
import dev.jdetect.models.dense.RetinaNet;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.ssd.D2lLoss;
import dev.jdetect.models.ssd.MultiBoxLoss;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.weights.TorchvisionNames;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelZooTest {

  private static final Set<String> SMALL =
      Set.of("tiny-ssd", "ssd-small", "faster-rcnn-small", "retinanet-small", "fcos-small");

  @Test
  void everyBuiltinNameBuildsAModelWithTheAskedClasses() {
    ModelZoo zoo = ModelZoo.builtin();
    assertEquals(
        Set.of(
            "tiny-ssd",
            "ssd-small",
            "faster-rcnn-small",
            "faster-rcnn-mobilenetv2-small",
            "ssd300-vgg16",
            "ssd512-vgg16",
            "ssd300-resnet50",
            "ssdlite-mobilenetv2",
            "faster-rcnn-mobilenetv2",
            "faster-rcnn-vgg16",
            "faster-rcnn-resnet50-c4",
            "retinanet-small",
            "fcos-small",
            "fasterrcnn_resnet50_fpn",
            "fasterrcnn_resnet50_fpn_v2",
            "ssdlite320_mobilenet_v3_large",
            "fasterrcnn_mobilenet_v3_large_fpn",
            "fasterrcnn_mobilenet_v3_large_320_fpn",
            "retinanet_resnet50_fpn",
            "retinanet_resnet50_fpn_v2",
            "fcos_resnet50_fpn"),
        zoo.names());
    for (String name : zoo.names()) {
      DetectionModel model = zoo.create(ModelConfig.of(name, 3).withInputSize(96, 64));
      assertEquals(3, model.numClasses(), name);
      assertTrue(model.lossNames().length >= 2, name);
      assertEquals(family(name), model.getClass(), name);
    }
  }

  private static float firstFrozenEps(Block block) {
    if (block instanceof FrozenBatchNorm2d) {
      return ((FrozenBatchNorm2d) block).eps();
    }
    for (Block child : block.getChildren().values()) {
      float eps = firstFrozenEps(child);
      if (!Float.isNaN(eps)) {
        return eps;
      }
    }
    return Float.NaN;
  }

  private static long trainableCount(DetectionModel model) {
    return model.getParameters().stream().filter(p -> p.getValue().requiresGradient()).count();
  }

  private static Class<?> family(String name) {
    if (name.contains("rcnn")) {
      return FasterRcnn.class;
    }
    if (name.startsWith("retinanet")) {
      return RetinaNet.class;
    }
    return name.startsWith("fcos") ? Fcos.class : Ssd.class;
  }

  @Test
  void torchvisionNamesBuildTorchvisionArchitecturesWithTheirOptions() {
    ModelZoo zoo = ModelZoo.builtin();
    for (String name :
        List.of("fasterrcnn_resnet50_fpn", "retinanet_resnet50_fpn", "fcos_resnet50_fpn")) {
      DetectionModel fromZoo = zoo.create(ModelConfig.of(name, 90));
      DetectionModel direct =
          switch (name) {
            case "fasterrcnn_resnet50_fpn" -> TorchvisionDetectors.fasterRcnnResNet50Fpn(90, 3);
            case "retinanet_resnet50_fpn" -> TorchvisionDenseDetectors.retinaNetResNet50Fpn(90, 3);
            default -> TorchvisionDenseDetectors.fcosResNet50Fpn(90, 3);
          };
      assertEquals(
          TorchvisionNames.of(direct).keySet(), TorchvisionNames.of(fromZoo).keySet(), name);
    }
    // COCO_V1 sets the frozen batch norms' epsilon to 0 as torchvision does for its weights
    DetectionModel coco =
        zoo.create(ModelConfig.of("retinanet_resnet50_fpn", 90).withOption("weights", "COCO_V1"));
    assertEquals(0f, firstFrozenEps(coco));
    assertEquals(1e-5f, firstFrozenEps(zoo.create(ModelConfig.of("retinanet_resnet50_fpn", 90))));
    // fewer trainable stages, fewer parameters that need gradients
    assertTrue(
        trainableCount(
                zoo.create(
                    ModelConfig.of("fcos_resnet50_fpn", 2).withOption("trainableLayers", "0")))
            < trainableCount(zoo.create(ModelConfig.of("fcos_resnet50_fpn", 2))));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                zoo.create(
                    ModelConfig.of("fcos_resnet50_fpn", 2).withOption("trainableLayers", "all")));
    assertEquals(
        "option 'trainableLayers' of model 'fcos_resnet50_fpn' is not an integer: all",
        e.getMessage());
  }

  @Test
  void mobileNetV3NamesBuildTorchvisionsFromScratchModelOnRequest() {
    ModelZoo zoo = ModelZoo.builtin();
    String name = "fasterrcnn_mobilenet_v3_large_320_fpn";
    DetectionModel scratch = zoo.create(ModelConfig.of(name, 3).withOption("scratch", "true"));
    DetectionModel usual = zoo.create(ModelConfig.of(name, 3));
    assertEquals(TorchvisionNames.of(usual).keySet(), TorchvisionNames.of(scratch).keySet());
    // every stage trains from scratch; three of six by default otherwise
    assertTrue(trainableCount(scratch) > trainableCount(usual));
    assertEquals(
        trainableCount(usual),
        trainableCount(zoo.create(ModelConfig.of(name, 3).withOption("scratch", "false"))));
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> zoo.create(ModelConfig.of(name, 3).withOption("scratch", "yes")));
    assertEquals(
        "option 'scratch' of model '" + name + "' must be true or false: yes", bad.getMessage());
    IllegalArgumentException both =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                zoo.create(
                    ModelConfig.of(name, 3)
                        .withOption("scratch", "true")
                        .withOption("trainableLayers", "2")));
    assertTrue(both.getMessage().contains("'trainableLayers' does not apply"), both.getMessage());
  }

  /** The small configurations run at the configured input size and return valid detections. */
  @Test
  void smallModelsRunAtTheirInputSize() {
    ModelZoo zoo = ModelZoo.builtin();
    for (String name : SMALL) {
      try (NDManager m = NDManager.newBaseManager()) {
        DetectionModel model = zoo.create(ModelConfig.of(name, 2).withInputSize(96, 64));
        model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 64, 96));
        NDList out =
            model.forward(
                new ParameterStore(m, false),
                new NDList(m.randomUniform(0, 1, new Shape(1, 3, 64, 96))),
                false);
        List<Detections> found = Detections.fromNDList(out);
        assertEquals(1, found.size(), name);
        Detections d = found.get(0);
        long n = d.size();
        assertArrayEquals(new long[] {n, 4}, d.boxes().getShape().getShape(), name);
        for (long label : d.labels().toLongArray()) {
          assertTrue(label >= 1 && label <= 2, name + " label " + label);
        }
        for (float score : d.scores().toFloatArray()) {
          assertTrue(score >= 0 && score <= 1, name + " score " + score);
        }
      }
    }
  }

  @Test
  void smallSsdTakesTheConfiguredInputSize() {
    Ssd ssd = (Ssd) ModelZoo.builtin().create(ModelConfig.of("ssd-small", 4).withInputSize(96, 64));
    assertEquals(new Shape(1, 3, 64, 96), ssd.transform().inputShape(new Shape(1, 3, 10, 20)));
    Ssd byDefault = (Ssd) ModelZoo.builtin().create(ModelConfig.of("ssd-small", 4));
    assertEquals(
        new Shape(1, 3, 256, 256), byDefault.transform().inputShape(new Shape(1, 3, 10, 20)));
  }

  @Test
  void tinySsdReadsItsOptions() {
    Ssd model =
        (Ssd)
            ModelZoo.builtin().create(ModelConfig.of("tiny-ssd", 1).withOption("loss", "multibox"));
    assertTrue(model.loss() instanceof MultiBoxLoss, model.loss().toString());
    Ssd d2l = (Ssd) ModelZoo.builtin().create(ModelConfig.of("tiny-ssd", 1));
    assertTrue(d2l.loss() instanceof D2lLoss, d2l.loss().toString());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ModelZoo.builtin()
                    .create(ModelConfig.of("tiny-ssd", 1).withOption("maxDetections", "many")));
    assertEquals(
        "option 'maxDetections' of model 'tiny-ssd' is not an integer: many", e.getMessage());
  }

  @Test
  void unknownNamesAndWrongClassCountsAreRejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ModelZoo.builtin().create(ModelConfig.of("ssd-large", 3)));
    assertTrue(e.getMessage().startsWith("unknown model name 'ssd-large'"), e.getMessage());
    assertTrue(e.getMessage().contains("ssd-small"), e.getMessage());

    ModelZoo zoo = ModelZoo.empty().register("fixed", c -> SmallModels.ssdSmall(2, 64, 64));
    e = assertThrows(IllegalArgumentException.class, () -> zoo.create(ModelConfig.of("fixed", 3)));
    assertEquals("model 'fixed' was built with 2 classes, but 3 were asked for", e.getMessage());
    assertEquals(Set.of("fixed"), zoo.names());
  }

  @Test
  void configsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> ModelConfig.of("", 1));
    assertThrows(IllegalArgumentException.class, () -> ModelConfig.of("ssd-small", 0));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ModelConfig.of("ssd-small", 1).withInputSize(64, 0));
    assertTrue(e.getMessage().contains("64x0"), e.getMessage());
  }
}
