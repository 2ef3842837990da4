package dev.jdetect.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ObjectAnnotation;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleDataTest {

  private static ImageAnnotation image(Path dir, String name, int w, int h, float... box)
      throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, 0xff0000);
    Path file = dir.resolve(name);
    ImageIO.write(img, "png", file.toFile());
    List<ObjectAnnotation> objects = new ArrayList<>();
    for (int i = 0; i < box.length; i += 4) {
      objects.add(
          new ObjectAnnotation(1, box[i], box[i + 1], box[i + 2], box[i + 3], false, false));
    }
    return new ImageAnnotation(name, file, w, h, objects);
  }

  @Test
  void batchesResizeFlipAndPad(@TempDir Path dir) throws IOException {
    AnnotationSet set =
        new AnnotationSet(
            List.of("thing"),
            List.of(
                image(dir, "a.png", 128, 64, 0, 0, 64, 32, 64, 32, 128, 64),
                image(dir, "b.png", 32, 32, 8, 8, 16, 24)));
    SampleData data =
        SampleData.builder()
            .setAnnotations(set)
            .optPreprocess(new Resize(64, 64))
            .optAugmentation(new HorizontalFlip(1f))
            .build();
    assertEquals(2, data.size());
    try (NDManager m = NDManager.newBaseManager()) {
      TrainingBatch b = data.batch(m, new int[] {1, 0}, new Random(0));
      assertEquals(new Shape(2, 3, 64, 64), b.getImages().getShape());
      NDList t = b.getTargets();
      assertEquals(new Shape(2, 2, 4), t.get(0).getShape());
      // image b: x scaled by 2 then flipped (x -> 64 - x), y scaled by 2; padded row
      assertArrayEquals(
          new float[] {32, 16, 48, 48, 0, 0, 0, 0}, t.get(0).get(0).toFloatArray(), 1e-5f);
      assertArrayEquals(new long[] {1, -1}, t.get(1).get(0).toLongArray());
      // image a: x scaled by 0.5 and flipped
      assertArrayEquals(
          new float[] {32, 0, 64, 32, 0, 32, 32, 64}, t.get(0).get(1).toFloatArray(), 1e-5f);
      // the red pixel at (0, 0) of image a ends up at the right edge after the flip
      assertTrue(b.getImages().get(1, 0, 0, 63).getFloat() > 0.3f);
      assertEquals(0f, b.getImages().get(1, 0, 0, 0).getFloat(), 1e-6f);
      // cached samples are the same on a second pass
      TrainingBatch again = data.batch(m, new int[] {1, 0}, new Random(0));
      assertArrayEquals(b.getImages().toFloatArray(), again.getImages().toFloatArray());

      SampleData unresized = SampleData.builder().setAnnotations(set).build();
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> unresized.batch(m, new int[] {0, 1}, new Random(0)));
      assertTrue(e.getMessage().contains("b.png"), e.getMessage());
    }
  }

  /** Predicts one box per image, always {@code (W/4, H/4, 3W/4, 3H/4)} of class 1. */
  private static final class CentreBoxModel extends AbstractBlock implements DetectionModel {
    @Override
    public int numClasses() {
      return 1;
    }

    @Override
    public String[] lossNames() {
      return new String[0];
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray images = inputs.head();
      NDManager m = images.getManager();
      float h = images.getShape().get(2);
      float w = images.getShape().get(3);
      List<Detections> out = new ArrayList<>();
      for (int i = 0; i < images.getShape().get(0); i++) {
        out.add(
            new Detections(
                m.create(new float[] {w / 4, h / 4, 3 * w / 4, 3 * h / 4}, new Shape(1, 4)),
                m.create(new float[] {0.9f}),
                m.create(new long[] {1})));
      }
      return Detections.toNDList(out);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[0];
    }
  }

  @Test
  void vocEvaluationComparesInPreprocessedPixels(@TempDir Path dir) throws IOException {
    // the centre box of a 100x50 image is (25, 12.5, 75, 37.5); after resizing to 40x40 the
    // model's (10, 10, 30, 30) is exactly that box again
    AnnotationSet hit =
        new AnnotationSet(
            List.of("thing"), List.of(image(dir, "hit.png", 100, 50, 25, 12.5f, 75, 37.5f)));
    AnnotationSet miss =
        new AnnotationSet(List.of("thing"), List.of(image(dir, "miss.png", 100, 50, 0, 0, 20, 10)));
    CentreBoxModel model = new CentreBoxModel();
    try (NDManager m = NDManager.newBaseManager()) {
      model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 40, 40));
      Resize resize = new Resize(40, 40);
      assertEquals(1.0, DetectionEvaluation.voc(model, hit, resize, 4, 0.5, false).getMap(), 1e-9);
      assertEquals(0.0, DetectionEvaluation.voc(model, miss, resize, 4, 0.5, false).getMap(), 1e-9);
    }
  }
}
