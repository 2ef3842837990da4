package dev.jdetect.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.inference.ZooModels;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a user of the library does with nothing but the README's two dependencies: save a model,
 * load it through DJL's {@code Criteria}, predict one image at a time, in a batch of mixed sizes
 * and on two threads at once, and get what the model in memory detects.
 */
class ConsumerTest {

  private static final List<String> CLASSES = List.of("ball", "box");

  @ParameterizedTest
  @ValueSource(strings = {"tiny-ssd", "ssd300-vgg16", "faster-rcnn-small"})
  void aSavedModelLoadsThroughCriteriaAndDetectsAsInMemory(String name, @TempDir Path dir)
      throws Exception {
    ModelDescription description =
        ModelDescription.builder().setArchitecture(name).setClasses(CLASSES).build();
    List<Image> images = List.of(scene(160, 120), scene(96, 128), scene(130, 130), scene(200, 90));
    List<DetectedObjects> inMemory = new ArrayList<>();
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model =
          ModelZoo.builtin().create(ModelConfig.of(name, CLASSES.size()));
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 128, 128));
      SavedModel.save(model, description, dir);
      try (ZooModel<Image, DetectedObjects> zoo = ZooModels.of(model, description, Map.of());
          Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
        for (Image image : images) {
          inMemory.add(predictor.predict(image));
        }
      }
    }
    Criteria<Image, DetectedObjects> criteria =
        Criteria.builder()
            .setTypes(Image.class, DetectedObjects.class)
            .optModelPath(dir)
            .optEngine("PyTorch")
            .optTranslatorFactory(new DetectionTranslatorFactory())
            .build();
    try (ZooModel<Image, DetectedObjects> loaded = criteria.loadModel()) {
      try (Predictor<Image, DetectedObjects> predictor = loaded.newPredictor()) {
        for (int i = 0; i < images.size(); i++) {
          DetectedObjects found = predictor.predict(images.get(i));
          assertTrue(found.getNumberOfObjects() > 0, name + ": random weights detect something");
          assertSame(inMemory.get(i), found, 1e-6, name + " image " + i);
        }
        List<DetectedObjects> batch = predictor.batchPredict(images);
        assertEquals(images.size(), batch.size());
        for (DetectedObjects objects : batch) {
          for (int k = 0; k < objects.getNumberOfObjects(); k++) {
            assertTrue(CLASSES.contains(objects.item(k).getClassName()), name + " batch label");
          }
        }
      }
      List<Future<List<DetectedObjects>>> halves = new ArrayList<>();
      ExecutorService threads = Executors.newFixedThreadPool(2);
      try {
        for (List<Image> part : List.of(images.subList(0, 2), images.subList(2, 4))) {
          halves.add(threads.submit(() -> predictAll(loaded, part)));
        }
        List<DetectedObjects> parallel = new ArrayList<>(halves.get(0).get());
        parallel.addAll(halves.get(1).get());
        for (int i = 0; i < images.size(); i++) {
          assertSame(inMemory.get(i), parallel.get(i), 1e-6, name + " thread image " + i);
        }
      } finally {
        threads.shutdownNow();
      }
    }
  }

  private static List<DetectedObjects> predictAll(
      ZooModel<Image, DetectedObjects> model, List<Image> images) throws Exception {
    List<DetectedObjects> out = new ArrayList<>();
    try (Predictor<Image, DetectedObjects> predictor = model.newPredictor()) {
      for (Image image : images) {
        out.add(predictor.predict(image));
      }
    }
    return out;
  }

  private static void assertSame(
      DetectedObjects want, DetectedObjects got, double tolerance, String what) {
    assertEquals(want.getNumberOfObjects(), got.getNumberOfObjects(), what + ": count");
    for (int k = 0; k < want.getNumberOfObjects(); k++) {
      DetectedObjects.DetectedObject a = want.item(k);
      DetectedObjects.DetectedObject b = got.item(k);
      assertEquals(a.getClassName(), b.getClassName(), what);
      assertEquals(a.getProbability(), b.getProbability(), tolerance, what);
      Rectangle ra = a.getBoundingBox().getBounds();
      Rectangle rb = b.getBoundingBox().getBounds();
      double[] x = {ra.getX(), ra.getY(), ra.getWidth(), ra.getHeight()};
      double[] y = {rb.getX(), rb.getY(), rb.getWidth(), rb.getHeight()};
      for (int i = 0; i < 4; i++) {
        assertEquals(x[i], y[i], tolerance, what + " box");
      }
    }
  }

  /** A white picture with a red disc and a blue rectangle. */
  private static Image scene(int width, int height) {
    BufferedImage picture = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = picture.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(new Color(200, 30, 40));
    g.fillOval(width / 8, height / 5, width / 3, height / 3);
    g.setColor(new Color(20, 40, 190));
    g.fillRect(width / 2, height / 2, width / 3, height / 3);
    g.dispose();
    return ImageFactory.getInstance().fromImage(picture);
  }
}
