package dev.jdetect.train.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.ParameterList;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model directory saved the way the training examples save it (a zoo name, the classes and the
 * input size in {@code model.json}) is rebuilt through the default registry with the same weights
 * and the same detections.
 */
class SavedModelReloadTest {

  private static final List<String> CLASSES = List.of("circle", "square", "triangle");

  @Test
  void smallSsdAndFasterRcnnReloadByName(@TempDir Path dir) throws IOException {
    for (String name : List.of("ssd-small", "faster-rcnn-small")) {
      ModelDescription description =
          ModelDescription.builder()
              .setModelType(name)
              .setClasses(CLASSES)
              .optInputSize(96, 96)
              .build();
      Path modelDir = dir.resolve(name);
      Image image = picture();
      try (NDManager manager = NDManager.newBaseManager()) {
        DetectionModel trained =
            ModelZoo.builtin().create(ModelConfig.of(name, 3).withInputSize(96, 96));
        trained.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 96, 96));
        Detector.save(trained, description, modelDir);
        DetectedObjects expected;
        try (Detector original = Detector.of(trained, description)) {
          expected = original.detect(image);
        }
        try (Detector loaded = Detector.load(modelDir)) {
          assertSame(trained.getClass(), loaded.getModel().getClass(), name);
          assertEquals(description.toString(), loaded.getDescription().toString());
          assertSameParameters(trained, loaded.getModel(), name);
          DetectedObjects found = loaded.detect(image);
          assertTrue(found.getNumberOfObjects() > 0, name + ": random weights detect something");
          assertEquals(expected.getNumberOfObjects(), found.getNumberOfObjects(), name);
          for (int i = 0; i < found.getNumberOfObjects(); i++) {
            assertEquals(expected.item(i).getClassName(), found.item(i).getClassName(), name);
            assertEquals(expected.item(i).getProbability(), found.item(i).getProbability(), 1e-6);
          }
        }
      }
    }
  }

  private static void assertSameParameters(DetectionModel a, DetectionModel b, String name) {
    ParameterList pa = a.getParameters();
    ParameterList pb = b.getParameters();
    assertEquals(pa.size(), pb.size(), name);
    for (int i = 0; i < pa.size(); i++) {
      assertEquals(pa.get(i).getKey(), pb.get(i).getKey(), name);
      assertArrayEquals(
          pa.get(i).getValue().getArray().toFloatArray(),
          pb.get(i).getValue().getArray().toFloatArray(),
          name + " " + pa.get(i).getKey());
    }
  }

  private static Image picture() {
    BufferedImage img = new BufferedImage(120, 90, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 120, 90);
    g.setColor(Color.RED);
    g.fillOval(20, 15, 40, 40);
    g.dispose();
    return ImageFactory.getInstance().fromImage(img);
  }
}
