package dev.jdetect.models.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.util.Pair;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model saved the way the training examples save it loads through DJL's {@code Criteria} with
 * only the library's classes and detects what the model in memory detected.
 */
class SavedModelTest {

  private static final List<String> SMALL =
      List.of("tiny-ssd", "ssd-small", "faster-rcnn-small", "retinanet-small", "fcos-small");
  private static final List<String> CLASSES = List.of("circle", "square", "triangle");

  static ModelDescription description(String name) {
    return ModelDescription.builder()
        .setArchitecture(name)
        .setClasses(CLASSES)
        .optInputSize(96, 96)
        .build();
  }

  static DetectionModel trained(String name, NDManager manager) {
    DetectionModel model = ModelZoo.builtin().create(ModelConfig.of(name, 3).withInputSize(96, 96));
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 96, 96));
    // the dense heads start at the prior 0.01, below their score threshold: logits 0 score 0.5
    for (Map.Entry<String, Parameter> p : TorchvisionNames.of(model).entrySet()) {
      if (p.getKey().endsWith("cls_logits.bias")) {
        p.getValue().getArray().muli(0);
      }
    }
    return model;
  }

  static ZooModel<Image, DetectedObjects> load(Path dir, Map<String, Object> args)
      throws Exception {
    return Criteria.builder()
        .setTypes(Image.class, DetectedObjects.class)
        .optModelPath(dir)
        .optEngine("PyTorch")
        .optTranslatorFactory(new DetectionTranslatorFactory())
        .optArguments(args)
        .build()
        .loadModel();
  }

  @Test
  void everySmallArchitectureLoadsThroughCriteriaWithTheSameDetections(@TempDir Path tmp)
      throws Exception {
    for (String name : SMALL) {
      Path dir = tmp.resolve(name);
      List<Image> images = List.of(picture(120, 90), picture(64, 100));
      try (NDManager manager = NDManager.newBaseManager()) {
        DetectionModel model = trained(name, manager);
        SavedModel.save(model, description(name), dir);
        List<DetectedObjects> expected = new ArrayList<>();
        try (ZooModel<Image, DetectedObjects> memory =
                ZooModels.of(model, description(name), Map.of());
            Predictor<Image, DetectedObjects> p = memory.newPredictor()) {
          for (Image image : images) {
            expected.add(p.predict(image));
          }
        }
        try (ZooModel<Image, DetectedObjects> loaded = load(dir, Map.of())) {
          DetectionModel back = ((InferenceBlock) loaded.getBlock()).model();
          assertEquals(model.getClass(), back.getClass(), name);
          assertSameParameters(model, back, name);
          try (Predictor<Image, DetectedObjects> p = loaded.newPredictor()) {
            for (int i = 0; i < images.size(); i++) {
              DetectedObjects found = p.predict(images.get(i));
              assertTrue(
                  found.getNumberOfObjects() > 0, name + ": random weights detect something");
              assertSameDetections(expected.get(i), found, 0, name);
            }
            List<DetectedObjects> batch = p.batchPredict(images);
            // Faster R-CNN, RetinaNet and FCOS pad a batch to its largest image, as torchvision
            double tolerance = name.contains("ssd") ? 1e-5 : Double.NaN;
            assertEquals(images.size(), batch.size());
            if (!Double.isNaN(tolerance)) {
              for (int i = 0; i < images.size(); i++) {
                assertSameDetections(expected.get(i), batch.get(i), tolerance, name + " batch");
              }
            }
          }
        }
      }
    }
  }

  @Test
  void twoThreadsOfPredictorsGiveTheSequentialDetections(@TempDir Path tmp) throws Exception {
    List<Image> images = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      images.add(picture(80 + 7 * i, 60 + 5 * i));
    }
    for (String name : SMALL) {
      Path dir = tmp.resolve(name);
      try (NDManager manager = NDManager.newBaseManager()) {
        SavedModel.save(trained(name, manager), description(name), dir);
      }
      try (ZooModel<Image, DetectedObjects> model = load(dir, Map.of("maxDetections", 20))) {
        List<DetectedObjects> sequential = new ArrayList<>();
        try (Predictor<Image, DetectedObjects> p = model.newPredictor()) {
          for (Image image : images) {
            sequential.add(p.predict(image));
          }
        }
        List<DetectedObjects> parallel = inTwoThreads(model, images);
        for (int i = 0; i < images.size(); i++) {
          assertTrue(sequential.get(i).getNumberOfObjects() > 0, name);
          assertTrue(sequential.get(i).getNumberOfObjects() <= 20, name);
          assertSameDetections(sequential.get(i), parallel.get(i), 0, name + " image " + i);
        }
      }
    }
  }

  /** Predicts the first half of the images on one thread and the second half on another. */
  private static List<DetectedObjects> inTwoThreads(
      ZooModel<Image, DetectedObjects> model, List<Image> images) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<List<DetectedObjects>>> halves = new ArrayList<>();
      int half = images.size() / 2;
      for (List<Image> mine :
          List.of(images.subList(0, half), images.subList(half, images.size()))) {
        halves.add(
            pool.submit(
                () -> {
                  List<DetectedObjects> out = new ArrayList<>();
                  try (Predictor<Image, DetectedObjects> p = model.newPredictor()) {
                    for (Image image : mine) {
                      out.add(p.predict(image));
                    }
                  }
                  return out;
                }));
      }
      List<DetectedObjects> all = new ArrayList<>(halves.get(0).get());
      all.addAll(halves.get(1).get());
      return all;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void weightsAreSafetensorsWithTorchvisionNamesThatDjlDecodes(@TempDir Path dir) throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = trained("ssd-small", manager);
      SavedModel.save(model, description("ssd-small"), dir);
      Map<String, Parameter> names = TorchvisionNames.of(model);
      NDList decoded;
      try (InputStream is = Files.newInputStream(dir.resolve("model.safetensors"))) {
        decoded = NDList.decode(manager, is);
      }
      assertEquals(names.size(), decoded.size());
      for (NDArray array : decoded) {
        Parameter p = names.get(array.getName());
        assertTrue(p != null, "unknown name " + array.getName());
        assertArrayEquals(p.getArray().toFloatArray(), array.toFloatArray(), array.getName());
      }
      assertTrue(names.containsKey("head.classification_head.module_list.0.weight"));
      assertEquals(CLASSES, Files.readAllLines(dir.resolve("synset.txt")));
      ModelDescription back = ModelDescription.read(dir);
      assertEquals("ssd-small", back.getArchitecture());
      assertTrue(
          back.getTransform().startsWith("FixedSizeTransform(size=96x96"), back.getTransform());
    }
  }

  @Test
  void oldWeightsParamsDirectoriesSayHowToConvertAndConvert(@TempDir Path dir) throws Exception {
    List<Pair<String, NDArray>> values = new ArrayList<>();
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = trained("ssd-small", manager);
      Files.writeString(
          dir.resolve("model.json"),
          "{\"modelType\": \"ssd-small\", \"classes\": [\"circle\", \"square\", \"triangle\"],"
              + " \"inputWidth\": 96, \"inputHeight\": 96, \"weights\": \"weights.params\"}");
      try (DataOutputStream out =
          new DataOutputStream(Files.newOutputStream(dir.resolve("weights.params")))) {
        out.writeUTF("JDETECT-PARAMS");
        out.writeInt(1);
        out.writeInt(model.getParameters().size());
        for (Pair<String, Parameter> p : model.getParameters()) {
          out.writeUTF(p.getKey());
          byte[] bytes = p.getValue().getArray().encode();
          out.writeInt(bytes.length);
          out.write(bytes);
          values.add(new Pair<>(p.getKey(), p.getValue().getArray()));
        }
      }
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> SavedModel.load(dir, manager));
      assertTrue(e.getMessage().contains("SavedModel.upgrade(Path.of(\"" + dir), e.getMessage());

      SavedModel.upgrade(dir);
      try (ZooModel<Image, DetectedObjects> loaded = load(dir, Map.of())) {
        DetectionModel back = ((InferenceBlock) loaded.getBlock()).model();
        assertSameParameters(model, back, "upgraded");
      }
    }
  }

  @Test
  void badDirectoriesAreReported(@TempDir Path dir) throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> SavedModel.load(dir, manager));
      assertTrue(e.getMessage().contains("model.json"), e.getMessage());
      Files.writeString(
          dir.resolve("model.json"), "{\"architecture\": \"nope\", \"classes\": [\"a\"]}");
      Files.writeString(dir.resolve("model.safetensors"), "");
      e = assertThrows(IllegalArgumentException.class, () -> SavedModel.load(dir, manager));
      assertTrue(e.getMessage().contains("unknown architecture 'nope'"), e.getMessage());
      assertTrue(e.getMessage().contains("ssd-small"), e.getMessage());
      Files.writeString(
          dir.resolve("model.json"), "{\"architecture\": \"ssd-small\", \"classes\": [\"a\"]}");
      Files.writeString(dir.resolve("model.safetensors"), "garbage");
      IOException io = assertThrows(IOException.class, () -> SavedModel.load(dir, manager));
      assertTrue(io.getMessage().contains("model.safetensors"), io.getMessage());
      Files.writeString(dir.resolve("model.json"), "{\"architecture\": [");
      e = assertThrows(IllegalArgumentException.class, () -> SavedModel.load(dir, manager));
      assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
    }
  }

  @Test
  void everyArchitectureOfTheZooHasOneTensorNamePerParameter() {
    // what save and load rely on, checked on the uninitialised models (no weights allocated)
    ModelZoo zoo = ModelZoo.builtin();
    for (String name : zoo.names()) {
      DetectionModel model = zoo.create(ModelConfig.of(name, 2).withInputSize(128, 128));
      Map<String, Parameter> names = TorchvisionNames.of(model);
      assertEquals(model.getParameters().size(), names.size(), name);
      assertTrue(names.size() > 10, name);
    }
  }

  @Test
  void descriptionRoundTrips(@TempDir Path dir) throws Exception {
    ModelCard card = new ModelCard("VOC2007 trainval", 12, "VOC mAP@0.5 on test", 0.71, "seed 1");
    ModelDescription d =
        description("ssd-small").toBuilder()
            .optOption("loss", "multibox")
            .optScoreThreshold(0.25f)
            .optCard(card)
            .build();
    d.write(dir);
    ModelDescription r = ModelDescription.read(dir);
    assertEquals("ssd-small", r.getArchitecture());
    assertEquals(CLASSES, r.getClasses());
    assertEquals(96, r.getInputWidth());
    assertEquals(96, r.getInputHeight());
    assertEquals(0.25f, r.getScoreThreshold());
    assertEquals("model.safetensors", r.getWeights());
    assertEquals(Map.of("loss", "multibox"), r.getOptions());
    assertEquals(card, r.getCard());
  }

  static void assertSameParameters(DetectionModel a, DetectionModel b, String name) {
    assertEquals(a.getParameters().size(), b.getParameters().size(), name);
    for (int i = 0; i < a.getParameters().size(); i++) {
      assertEquals(a.getParameters().get(i).getKey(), b.getParameters().get(i).getKey(), name);
      assertArrayEquals(
          a.getParameters().get(i).getValue().getArray().toFloatArray(),
          b.getParameters().get(i).getValue().getArray().toFloatArray(),
          name + " " + a.getParameters().get(i).getKey());
    }
  }

  static void assertSameDetections(
      DetectedObjects expected, DetectedObjects found, double tolerance, String what) {
    assertEquals(expected.getNumberOfObjects(), found.getNumberOfObjects(), what);
    for (int i = 0; i < found.getNumberOfObjects(); i++) {
      DetectedObjects.DetectedObject e = expected.item(i);
      DetectedObjects.DetectedObject f = found.item(i);
      assertEquals(e.getClassName(), f.getClassName(), what);
      assertEquals(e.getProbability(), f.getProbability(), tolerance, what);
      assertEquals(
          e.getBoundingBox().getBounds().getX(),
          f.getBoundingBox().getBounds().getX(),
          tolerance,
          what);
      assertEquals(
          e.getBoundingBox().getBounds().getY(),
          f.getBoundingBox().getBounds().getY(),
          tolerance,
          what);
      assertEquals(
          e.getBoundingBox().getBounds().getWidth(),
          f.getBoundingBox().getBounds().getWidth(),
          tolerance,
          what);
      assertEquals(
          e.getBoundingBox().getBounds().getHeight(),
          f.getBoundingBox().getBounds().getHeight(),
          tolerance,
          what);
    }
  }

  static Image picture(int width, int height) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(Color.RED);
    g.fillOval(width / 6, height / 6, width / 3, height / 3);
    g.setColor(Color.BLUE);
    g.fillRect(width / 2, height / 2, width / 3, height / 4);
    g.dispose();
    return ImageFactory.getInstance().fromImage(img);
  }
}
