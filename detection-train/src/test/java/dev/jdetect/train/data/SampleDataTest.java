package dev.jdetect.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.train.DetectionEvaluation;
import dev.jdetect.train.augment.Compose;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one data pipeline of training and evaluation. */
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

  @Test
  void targetsArePaddedWithLabelMinusOneAndUnpadBack(@TempDir Path dir) throws IOException {
    ImageAnnotation two = image(dir, "two.png", 16, 16, 1, 2, 3, 4, 5, 6, 7, 8);
    ImageAnnotation none = image(dir, "none.png", 16, 16);
    List<ObjectAnnotation> relabelled =
        List.of(
            new ObjectAnnotation(3, 1, 2, 3, 4, false, false),
            new ObjectAnnotation(1, 5, 6, 7, 8, false, false));
    AnnotationSet set =
        new AnnotationSet(
            List.of("a", "b", "c"),
            List.of(new ImageAnnotation("two", two.getFile(), 16, 16, relabelled), none));
    SampleData data = SampleData.builder().setAnnotations(set).build();
    try (NDManager m = NDManager.newBaseManager()) {
      TrainingBatch b = data.batch(m, new int[] {0, 1}, new Random(0));
      NDList t = b.getTargets();
      assertEquals(new Shape(2, 2, 4), t.get(0).getShape());
      assertArrayEquals(
          new float[] {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0}, t.get(0).toFloatArray());
      assertArrayEquals(new long[] {3, 1, -1, -1}, t.get(1).toLongArray());
      assertEquals(-1, Targets.PADDING);
      List<ImageTargets> back = Targets.unpad(t);
      assertEquals(new Shape(2, 4), back.get(0).boxes().getShape());
      assertArrayEquals(new long[] {3, 1}, back.get(0).labels().toLongArray());
      assertEquals(new Shape(0, 4), back.get(1).boxes().getShape());
      assertEquals(new Shape(0), back.get(1).labels().getShape());
    }
  }

  @Test
  void batchesAVocSetInOrder(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator.builder()
        .optKind(SyntheticDataGenerator.Kind.SHAPES)
        .optSeed(11)
        .optImageSize(64)
        .optNumImages(5)
        .build()
        .writeVoc(dir);
    AnnotationSet set = VocReader.builder().setRoot(dir).build().read();
    SampleData data =
        SampleData.builder().setAnnotations(set).optPreprocess(new Resize(32, 32)).build();
    assertEquals(5, data.size());
    int images = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      for (int[] indices : new int[][] {{0, 1}, {2, 3}, {4}}) {
        try (NDManager scope = m.newSubManager()) {
          TrainingBatch batch = data.batch(scope, indices, new Random(0));
          NDArray pics = batch.getImages();
          NDList labels = batch.getTargets();
          long bs = indices.length;
          assertEquals(new Shape(bs, 3, 32, 32), pics.getShape());
          assertEquals(DataType.FLOAT32, pics.getDataType());
          long nmax = labels.get(0).getShape().get(1);
          assertEquals(new Shape(bs, nmax, 4), labels.get(0).getShape());
          assertEquals(new Shape(bs, nmax), labels.get(1).getShape());
          assertEquals(DataType.INT64, labels.get(1).getDataType());
          long[] l = labels.get(1).toLongArray();
          for (int i = 0; i < bs; i++) {
            ImageAnnotation ann = set.getImages().get(images + i);
            int count = ann.getObjects().size();
            for (int k = 0; k < nmax; k++) {
              long v = l[(int) (i * nmax + k)];
              assertEquals(k < count ? ann.getObjects().get(k).getLabel() : -1, v);
            }
          }
          // boxes scaled 64 -> 32
          float[] b = labels.get(0).toFloatArray();
          assertEquals(set.getImages().get(images).getObjects().get(0).getX1() / 2, b[0]);
          images += (int) bs;
        }
      }
    }
    assertEquals(5, images);
  }

  @Test
  void difficultObjectsAreLeftOutOfTrainingTargets(@TempDir Path dir) throws Exception {
    ReadersTest.voc(
        dir,
        ReadersTest.vocXml(
            64,
            48,
            ReadersTest.vocObject("dog", 0, "1", "1", "10", "10")
                + ReadersTest.vocObject("cat", 1, "5", "5", "20", "20")));
    AnnotationSet set = VocReader.builder().setRoot(dir).build().read();
    try (NDManager m = NDManager.newBaseManager()) {
      DetectionSample s = SampleData.builder().setAnnotations(set).build().sample(m, 0);
      assertArrayEquals(new long[] {12}, s.getLabels().toLongArray());
      assertEquals(new Shape(3, 48, 64), s.getImage().getShape());
      for (boolean cache : new boolean[] {true, false}) {
        SampleData eval =
            SampleData.builder()
                .setAnnotations(set)
                .optIncludeDifficult(true)
                .optCache(cache)
                .build();
        for (int pass = 0; pass < 2; pass++) {
          DetectionSample e = eval.sample(m, 0);
          assertArrayEquals(new long[] {12, 8}, e.getLabels().toLongArray());
          assertArrayEquals(new boolean[] {false, true}, e.getDifficult().toBooleanArray());
        }
      }
    }
  }

  @Test
  void loadingLeavesOnlyTheSampleArraysInTheCallersManager(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator.builder()
        .optKind(SyntheticDataGenerator.Kind.SHAPES)
        .optSeed(4)
        .optImageSize(64)
        .optNumImages(3)
        .build()
        .writeVoc(dir);
    AnnotationSet set = VocReader.builder().setRoot(dir).build().read();
    SampleData data =
        SampleData.builder()
            .setAnnotations(set)
            .optPreprocess(Compose.ssdTraining(32, 32))
            .optCache(false)
            .build();
    try (NDManager m = NDManager.newBaseManager()) {
      for (int round = 0; round < 20; round++) {
        try (NDManager scope = m.newSubManager()) {
          data.sample(scope, round % 3);
          // image, boxes, labels, difficult, crowd: no intermediate of the transforms is left
          assertEquals(5, scope.getManagedArrays().size());
        }
      }
      assertEquals(0, m.getManagedArrays().size());
    }
  }

  @Test
  void augmentationDrawsOnlyFromTheTrainersGenerator(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator.builder()
        .optSeed(2)
        .optImageSize(64)
        .optNumImages(2)
        .build()
        .writeCsv(dir);
    AnnotationSet set = CsvReader.builder().setCsvFile(dir.resolve("label.csv")).build().read();
    try (NDManager m = NDManager.newBaseManager()) {
      List<float[]> first = new ArrayList<>();
      List<float[]> second = new ArrayList<>();
      for (List<float[]> out : List.of(first, second)) {
        SampleData data =
            SampleData.builder()
                .setAnnotations(set)
                .optAugmentation(Compose.ssdTraining(32, 32))
                .build();
        Random trainer = new Random(99);
        for (int epoch = 0; epoch < 4; epoch++) {
          out.add(data.batch(m, new int[] {0}, trainer).getTargets().get(0).toFloatArray());
        }
      }
      for (int i = 0; i < first.size(); i++) {
        assertArrayEquals(first.get(i), second.get(i));
      }
      boolean differs = false;
      for (int i = 1; i < 4; i++) {
        differs |= !Arrays.equals(first.get(0), first.get(i));
      }
      assertTrue(differs, "epochs see different augmentations");
      assertFalse(set.getImages().isEmpty());
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
