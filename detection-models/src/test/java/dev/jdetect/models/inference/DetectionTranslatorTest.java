package dev.jdetect.models.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import dev.jdetect.models.transform.BilinearResize;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class DetectionTranslatorTest {

  private static final float EPS = 1e-6f;

  private static Image blank(int width, int height) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.setRGB(x, y, 0xffffff);
      }
    }
    return ImageFactory.getInstance().fromImage(img);
  }

  private static ModelDescription.Builder describe() {
    return ModelDescription.builder()
        .setArchitecture("fixed")
        .setClasses(List.of("cat", "dog"))
        .optScoreThreshold(0.1f);
  }

  private static FixedBoxModel model(NDManager m) {
    FixedBoxModel model = new FixedBoxModel(1f);
    model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 8, 8));
    return model;
  }

  private static void assertRect(Rectangle r, double x, double y, double w, double h) {
    assertEquals(x, r.getX(), EPS);
    assertEquals(y, r.getY(), EPS);
    assertEquals(w, r.getWidth(), EPS);
    assertEquals(h, r.getHeight(), EPS);
  }

  @Test
  void boxesAreRelativeToTheGivenImage() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = model(m);
      for (Map<String, ?> args :
          List.<Map<String, ?>>of(Map.of(), Map.of("width", 64, "height", 48))) {
        try (ZooModel<Image, DetectedObjects> zoo = ZooModels.of(model, describe().build(), args);
            Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
          DetectedObjects found = predictor.predict(blank(200, 100));
          assertEquals(1, found.getNumberOfObjects(), "score threshold drops the 0.05 box");
          DetectedObjects.DetectedObject obj = found.item(0);
          assertEquals("cat", obj.getClassName());
          assertEquals(0.9, obj.getProbability(), EPS);
          // (W/4, H/2, 3W/4, H) in the model's input is (0.25, 0.5) + (0.5 x 0.5) of any image
          assertRect(obj.getBoundingBox().getBounds(), 0.25, 0.5, 0.5, 0.5);
        }
      }
    }
  }

  @Test
  void argumentsOverrideThresholdAndLimitDetections() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = model(m);
      try (ZooModel<Image, DetectedObjects> all =
              ZooModels.of(model, describe().build(), Map.of("threshold", "0"));
          ZooModel<Image, DetectedObjects> one =
              ZooModels.of(model, describe().build(), Map.of("threshold", 0, "maxDetections", 1));
          Predictor<Image, DetectedObjects> p1 = all.newPredictor();
          Predictor<Image, DetectedObjects> p2 = one.newPredictor()) {
        DetectedObjects both = p1.predict(blank(20, 10));
        assertEquals(List.of("cat", "dog"), names(both));
        assertRect(
            both.<DetectedObjects.DetectedObject>item(1).getBoundingBox().getBounds(),
            0,
            0,
            0.1,
            0.1);
        assertEquals(List.of("cat"), names(p2.predict(blank(20, 10))));
      }
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> ZooModels.of(model, describe().build(), Map.of("threshold", "high")));
      assertTrue(e.getMessage().contains("threshold"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> ZooModels.of(model, describe().build(), Map.of("synset", "cat,dog,bird")));
      assertTrue(e.getMessage().contains("3, from argument synset"), e.getMessage());
    }
  }

  @Test
  void inputSizeResizesAsTorchvision() throws Exception {
    BufferedImage photo = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        photo.setRGB(x, y, ((x * 37 + y * 11) % 256) << 16 | ((x * y) % 256) << 8 | (y * 8));
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = model(m);
      try (ZooModel<Image, DetectedObjects> zoo =
              ZooModels.of(model, describe().build(), Map.of("width", "16", "height", "12"));
          Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
        predictor.predict(ImageFactory.getInstance().fromImage(photo));
      }
      // float pixels resized without antialiasing (torchvision's F.interpolate), never 8-bit
      NDArray expected = BilinearResize.resize(ImageTensors.toChw(m, photo), 12, 16, false);
      assertArrayEquals(expected.toFloatArray(), model.lastInput, 0f);
    }
  }

  @Test
  void batchOfDifferentSizesIsOneListForOneForwardPass() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = model(m);
      try (ZooModel<Image, DetectedObjects> zoo =
              ZooModels.of(model, describe().build(), Map.of("threshold", 0));
          Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
        List<DetectedObjects> all =
            predictor.batchPredict(List.of(blank(50, 40), blank(300, 20), blank(32, 32)));
        assertEquals(3, all.size());
        assertEquals(1, model.forwardCalls.get());
        assertEquals(
            List.of(new Shape(3, 40, 50), new Shape(3, 20, 300), new Shape(3, 32, 32)),
            model.lastShapes);
        // images of one size are stacked into one array
        predictor.batchPredict(List.of(blank(32, 32), blank(32, 32)));
        assertEquals(List.of(new Shape(2, 3, 32, 32)), model.lastShapes);
        for (DetectedObjects d : all) {
          assertEquals(List.of("cat", "dog"), names(d));
          assertRect(
              d.<DetectedObjects.DetectedObject>item(1).getBoundingBox().getBounds(),
              0,
              0,
              0.1,
              0.1);
        }
      }
    }
  }

  @Test
  void predictorsOnManyThreadsShareOneCopyOfTheWeightsWithoutRecording() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = model(m);
      try (ZooModel<Image, DetectedObjects> zoo =
          ZooModels.of(model, describe().build(), Map.of())) {
        List<Future<Rectangle>> futures = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          int w = 20 + i;
          futures.add(
              pool.submit(
                  () -> {
                    try (Predictor<Image, DetectedObjects> p = zoo.newPredictor()) {
                      return p.predict(blank(w, 30))
                          .<DetectedObjects.DetectedObject>item(0)
                          .getBoundingBox()
                          .getBounds();
                    }
                  }));
        }
        for (Future<Rectangle> f : futures) {
          assertRect(f.get(), 0.25, 0.5, 0.5, 0.5);
        }
      }
      assertEquals(1, model.weightsSeen.size(), "every predictor got the model's own array");
      assertSame(
          model.getParameters().get("scale").getArray(), model.weightsSeen.iterator().next());
      assertFalse(
          model.recordedGradients, "pool threads start in grad mode; inference turns it off");
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<String> names(DetectedObjects d) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < d.getNumberOfObjects(); i++) {
      out.add(d.item(i).getClassName());
    }
    return out;
  }
}
