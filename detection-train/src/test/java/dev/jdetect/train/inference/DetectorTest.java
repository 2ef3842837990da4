package dev.jdetect.train.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.inference.ImageTensors;
import dev.jdetect.models.transform.BilinearResize;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectorTest {

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

  private static ModelRegistry registry(float init) {
    return ModelRegistry.empty().register("fixed", d -> new FixedBoxModel(init));
  }

  private static ModelDescription.Builder describe() {
    return ModelDescription.builder()
        .setModelType("fixed")
        .setClasses(List.of("cat", "dog"))
        .optScoreThreshold(0.1f);
  }

  private static Path saved(Path dir, ModelDescription description) throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = new FixedBoxModel(1f);
      model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 8, 8));
      Detector.save(model, description, dir);
    }
    return dir;
  }

  private static void assertRect(Rectangle r, double x, double y, double w, double h) {
    assertEquals(x, r.getX(), EPS);
    assertEquals(y, r.getY(), EPS);
    assertEquals(w, r.getWidth(), EPS);
    assertEquals(h, r.getHeight(), EPS);
  }

  @Test
  void boxesAreRelativeToTheGivenImage(@TempDir Path dir) throws IOException {
    for (ModelDescription d :
        List.of(describe().optInputSize(64, 48).build(), describe().build())) {
      Path modelDir = saved(dir.resolve(d.hasFixedInputSize() ? "fixed" : "free"), d);
      // weights are loaded: the fresh model starts with scale 0.5, the file holds 1.0
      try (Detector detector = Detector.load(modelDir, registry(0.5f))) {
        DetectedObjects found = detector.detect(blank(200, 100));
        assertEquals(1, found.getNumberOfObjects(), "score threshold drops the 0.05 box");
        DetectedObjects.DetectedObject obj = found.item(0);
        assertEquals("cat", obj.getClassName());
        assertEquals(0.9, obj.getProbability(), EPS);
        // (W/4, H/2, 3W/4, H) in the model's input is (0.25, 0.5) + (0.5 x 0.5) of any image
        assertRect(obj.getBoundingBox().getBounds(), 0.25, 0.5, 0.5, 0.5);
      }
    }
  }

  @Test
  void fixedInputSizeResizesAsTorchvision() {
    BufferedImage photo = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        photo.setRGB(x, y, ((x * 37 + y * 11) % 256) << 16 | ((x * y) % 256) << 8 | (y * 8));
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      FixedBoxModel model = new FixedBoxModel(1f);
      model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 8, 8));
      try (Detector detector = Detector.of(model, describe().optInputSize(16, 12).build())) {
        detector.detect(ImageFactory.getInstance().fromImage(photo));
      }
      // float pixels resized without antialiasing (torchvision's F.interpolate), never 8-bit
      NDArray expected = BilinearResize.resize(ImageTensors.toChw(m, photo), 12, 16, false);
      assertArrayEquals(expected.toFloatArray(), model.lastInput, 0f);
    }
  }

  @Test
  void batchPredictionRunsOnceForFixedSize(@TempDir Path dir) throws IOException {
    Path modelDir = saved(dir, describe().optInputSize(32, 32).optScoreThreshold(0).build());
    try (Detector detector = Detector.load(modelDir, registry(1f))) {
      FixedBoxModel model = (FixedBoxModel) detector.getModel();
      List<DetectedObjects> all =
          detector.detect(List.of(blank(50, 40), blank(300, 20), blank(32, 32)));
      assertEquals(3, all.size());
      assertEquals(1, model.forwardCalls.get());
      for (DetectedObjects d : all) {
        assertEquals(2, d.getNumberOfObjects());
        assertEquals("dog", d.item(1).getClassName());
        DetectedObjects.DetectedObject dog = d.item(1);
        assertRect(dog.getBoundingBox().getBounds(), 0, 0, 0.1, 0.1);
      }
    }
  }

  @Test
  void sharedDetectorIsSafeAcrossThreads(@TempDir Path dir) throws Exception {
    Path modelDir = saved(dir, describe().optInputSize(16, 16).build());
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (Detector detector = Detector.load(modelDir, registry(1f))) {
      List<Future<Rectangle>> futures = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        int w = 20 + i;
        futures.add(
            pool.submit(
                () -> {
                  DetectedObjects.DetectedObject o = detector.detect(blank(w, 30)).item(0);
                  return o.getBoundingBox().getBounds();
                }));
      }
      for (Future<Rectangle> f : futures) {
        assertRect(f.get(), 0.25, 0.5, 0.5, 0.5);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void badModelDirectoriesAreReported(@TempDir Path dir) throws IOException {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Detector.load(dir, registry(1f)));
    assertTrue(e.getMessage().contains("model.json"), e.getMessage());

    Files.writeString(dir.resolve("model.json"), "{\"modelType\": \"fixed\"}");
    e = assertThrows(IllegalArgumentException.class, () -> Detector.load(dir, registry(1f)));
    assertTrue(e.getMessage().contains("classes"), e.getMessage());

    Files.writeString(dir.resolve("model.json"), "{\"modelType\": [");
    e = assertThrows(IllegalArgumentException.class, () -> Detector.load(dir, registry(1f)));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());

    Path other = saved(dir.resolve("x"), describe().setModelType("nope").build());
    e = assertThrows(IllegalArgumentException.class, () -> Detector.load(other, registry(1f)));
    assertTrue(e.getMessage().contains("unknown modelType 'nope'"), e.getMessage());
    assertTrue(e.getMessage().contains("[fixed]"), e.getMessage());

    Path wrongWeights = saved(dir.resolve("y"), describe().build());
    Files.writeString(wrongWeights.resolve("weights.params"), "garbage");
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Detector.load(wrongWeights, registry(1f)));
    assertTrue(e.getMessage().contains("not a jdetect weights file"), e.getMessage());
  }

  @Test
  void descriptionRoundTrips(@TempDir Path dir) throws IOException {
    ModelDescription d =
        describe().optInputSize(256, 128).optOption("backbone", "mobilenet_v2").build();
    d.write(dir);
    ModelDescription r = ModelDescription.read(dir);
    assertEquals("fixed", r.getModelType());
    assertEquals(List.of("cat", "dog"), r.getClasses());
    assertEquals(256, r.getInputWidth());
    assertEquals(128, r.getInputHeight());
    assertEquals(0.1f, r.getScoreThreshold());
    assertEquals("weights.params", r.getWeights());
    assertEquals("mobilenet_v2", r.getOption("backbone", null));
  }

  @Test
  void drawerPaintsBoxEdgesOnly(@TempDir Path dir) throws IOException {
    DetectedObjects dets =
        new DetectedObjects(
            List.of("cat"), List.of(0.8), List.of(new Rectangle(0.2, 0.4, 0.5, 0.4)));
    BufferedImage drawn = DetectionDrawer.draw(blank(100, 100), dets);
    assertNotEquals(0xffffff, drawn.getRGB(20, 60) & 0xffffff, "left edge");
    assertNotEquals(0xffffff, drawn.getRGB(70, 60) & 0xffffff, "right edge");
    assertEquals(0xffffff, drawn.getRGB(45, 60) & 0xffffff, "inside");
    assertEquals(0xffffff, drawn.getRGB(90, 90) & 0xffffff, "outside");
    Path png = dir.resolve("out/d.png");
    DetectionDrawer.savePng(drawn, png);
    BufferedImage back = ImageIO.read(png.toFile());
    assertEquals(100, back.getWidth());
    assertEquals(drawn.getRGB(20, 60), back.getRGB(20, 60));
  }
}
