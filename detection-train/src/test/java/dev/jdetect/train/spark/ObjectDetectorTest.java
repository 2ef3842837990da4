package dev.jdetect.train.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.testkit.SmallSavedModel;
import dev.jdetect.train.data.ImageFiles;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalSpark.class)
class ObjectDetectorTest {

  private static final List<String> CLASSES = List.of("circle", "square");
  private static final int GOOD = 5;

  @TempDir static Path shared;
  private static Path model;
  private static Path images;

  /** The single-process predictor's detections of each good image, in pixels, by file name. */
  private static Map<String, List<float[]>> expected;

  /**
   * A saved ssd-small (random weights), 5 images of different sizes, a corrupt and an empty one.
   */
  @BeforeAll
  static void setUp() throws Exception {
    model = SmallSavedModel.save(shared.resolve("model"), CLASSES, b -> b);
    images = shared.resolve("images");
    Files.createDirectories(images);
    Random random = new Random(3);
    for (int i = 0; i < GOOD; i++) {
      BufferedImage img = new BufferedImage(60 + 13 * i, 50 + 7 * i, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setColor(new Color(random.nextInt(0xffffff)));
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setColor(new Color(random.nextInt(0xffffff)));
      g.fillOval(random.nextInt(30), random.nextInt(20), 25, 25);
      g.dispose();
      ImageIO.write(img, i % 2 == 0 ? "png" : "jpg", images.resolve("img" + i + ".png").toFile());
    }
    byte[] jpeg = Files.readAllBytes(images.resolve("img1.png"));
    Files.write(images.resolve("corrupt.png"), java.util.Arrays.copyOf(jpeg, jpeg.length / 3));
    Files.write(images.resolve("empty.png"), new byte[0]);

    expected = new HashMap<>();
    Criteria<Image, DetectedObjects> criteria =
        Criteria.builder()
            .setTypes(Image.class, DetectedObjects.class)
            .optModelPath(model)
            .optEngine("PyTorch")
            .optTranslatorFactory(new DetectionTranslatorFactory())
            .build();
    try (ZooModel<Image, DetectedObjects> zoo = criteria.loadModel();
        Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
      for (int i = 0; i < GOOD; i++) {
        String name = "img" + i + ".png";
        Image image = ImageFactory.getInstance().fromImage(ImageFiles.read(images.resolve(name)));
        DetectedObjects found = predictor.predict(image);
        List<float[]> boxes = new ArrayList<>();
        for (int k = 0; k < found.getNumberOfObjects(); k++) {
          DetectedObjects.DetectedObject o = found.item(k);
          Rectangle r = o.getBoundingBox().getBounds();
          int w = image.getWidth();
          int h = image.getHeight();
          boxes.add(
              new float[] {
                CLASSES.indexOf(o.getClassName()) + 1,
                (float) o.getProbability(),
                (float) (r.getX() * w),
                (float) (r.getY() * h),
                (float) ((r.getX() + r.getWidth()) * w),
                (float) ((r.getY() + r.getHeight()) * h)
              });
        }
        boxes.sort((a, b) -> Float.compare(b[1], a[1]));
        expected.put(name, boxes);
      }
    }
    assertTrue(expected.values().stream().allMatch(b -> b.size() >= 3), "detections to compare");
  }

  private static ObjectDetector detector() {
    return new ObjectDetector().setModelLocation(model.toString()).setBatchSize(3);
  }

  private static Dataset<Row> binaryFiles(SparkSession spark) {
    return spark.read().format("binaryFile").load(images.toString()).repartition(2);
  }

  private static String fileName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** Every good image's detections equal the predictor's; the bad files have their errors. */
  private static void assertResults(List<Row> rows, String pathColumn, int maxDetections) {
    assertTrue(rows.size() >= GOOD + 1);
    for (Row r : rows) {
      String name = fileName(r.getString(r.fieldIndex(pathColumn)));
      List<Row> found = r.getList(r.fieldIndex("detections"));
      String error = r.getString(r.fieldIndex("error"));
      if (!expected.containsKey(name)) {
        assertNull(found, name);
        assertNotNull(error, name);
        assertTrue(error.contains(name), name + ": " + error);
        assertTrue(
            error.contains(name.equals("empty.png") ? "empty image file" : "corrupt"),
            name + ": " + error);
        continue;
      }
      assertNull(error, name);
      List<float[]> want = expected.get(name);
      want = want.subList(0, Math.min(want.size(), maxDetections));
      assertEquals(want.size(), found.size(), name);
      for (int k = 0; k < want.size(); k++) {
        Row d = found.get(k);
        float[] w = want.get(k);
        assertEquals(CLASSES.get((int) w[0] - 1), d.getString(0), name + " #" + k);
        assertEquals((int) w[0], d.getInt(1), name + " #" + k);
        for (int c = 1; c < 6; c++) {
          assertEquals(w[c], d.getFloat(c + 1), 1e-4f * Math.max(1, Math.abs(w[c])), name);
        }
      }
    }
  }

  @Test
  void bytesFromBinaryFilesGiveThePredictorsDetections(SparkSession spark) {
    // binaryFile skips empty files; an empty file's row is made by hand
    Dataset<Row> files = binaryFiles(spark).select("path", "content");
    Row empty = RowFactory.create("file:" + images.resolve("empty.png"), new byte[0]);
    Dataset<Row> all = files.union(spark.createDataFrame(List.of(empty), files.schema()));
    List<Row> rows = detector().transform(all).drop("content").collectAsList();
    assertEquals(GOOD + 2, rows.size());
    assertResults(rows, "path", Integer.MAX_VALUE);
  }

  @Test
  void pathsGiveThePredictorsDetectionsWithTheLimit(SparkSession spark) throws Exception {
    List<String> paths = new ArrayList<>();
    try (var files = Files.list(images)) {
      files.forEach(f -> paths.add(f.toString()));
    }
    Dataset<Row> frame = spark.createDataset(paths, Encoders.STRING()).toDF("file").repartition(2);
    List<Row> rows =
        detector().setInputCol("file").setMaxDetections(2).transform(frame).collectAsList();
    assertEquals(GOOD + 2, rows.size());
    assertResults(rows, "file", 2);
  }

  @Test
  void scoreThresholdDropsLowerScores(SparkSession spark) {
    float cut = expected.get("img0.png").get(1)[1]; // the second best score of img0
    List<Row> rows =
        detector()
            .setScoreThreshold(cut)
            .transform(binaryFiles(spark))
            .filter("path like '%img0.png'")
            .collectAsList();
    List<Row> found = rows.get(0).getList(rows.get(0).fieldIndex("detections"));
    long want = expected.get("img0.png").stream().filter(d -> d[1] >= cut).count();
    assertEquals(want, found.size());
    assertTrue(want >= 2);
    found.forEach(d -> assertTrue(d.getFloat(2) >= cut));
  }

  @Test
  void schemaIsTheTypedDetectionArray(SparkSession spark) {
    Dataset<Row> out = detector().transform(binaryFiles(spark));
    assertEquals(
        "array<struct<label:string,class_id:int,score:float,xmin:float,ymin:float,xmax:float,"
            + "ymax:float>>",
        out.schema().apply("detections").dataType().catalogString());
    assertEquals("string", out.schema().apply("error").dataType().catalogString());
    assertEquals(
        List.of("path", "modificationTime", "length", "content", "detections", "error"),
        List.of(out.columns()));
  }

  @Test
  void worksAsAPipelineStageAndPersists(SparkSession spark) throws Exception {
    Dataset<Row> files = binaryFiles(spark);
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {detector()});
    PipelineModel fitted = pipeline.fit(files);
    List<Row> rows = fitted.transform(files).drop("content").collectAsList();
    assertEquals(GOOD + 1, rows.size()); // binaryFile skips the empty file
    assertResults(rows, "path", 1000);

    Path saved = shared.resolve("saved-detector");
    detector().setMaxDetections(7).setOutputCol("found").write().overwrite().save(saved.toString());
    ObjectDetector loaded = ObjectDetector.load(saved.toString());
    assertEquals(model.toString(), loaded.getModelLocation());
    assertEquals(3, loaded.getBatchSize());
    assertEquals(7, loaded.getMaxDetections());
    assertEquals("found", loaded.getOutputCol());
  }

  @Test
  void aMissingModelOrABadColumnFailsOnTheDriver(SparkSession spark) throws Exception {
    Dataset<Row> files = binaryFiles(spark);
    Path missing = shared.resolve("no-such-model");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ObjectDetector().setModelLocation(missing.toString()).transform(files));
    assertTrue(e.getMessage().contains(missing + " does not exist"), e.getMessage());

    Path notAModel = Files.createDirectories(shared.resolve("not-a-model"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Pipeline()
                    .setStages(
                        new PipelineStage[] {
                          new ObjectDetector().setModelLocation(notAModel.toString())
                        })
                    .fit(files));
    assertTrue(e.getMessage().contains("is not a saved jdetect model"), e.getMessage());
    assertTrue(e.getMessage().contains("model.json"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> detector().setInputCol("image").transformSchema(files.schema()));
    assertTrue(e.getMessage().contains("input column 'image' not found"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> detector().setInputCol("length").transformSchema(files.schema()));
    assertTrue(e.getMessage().contains("input column 'length' is bigint"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> detector().setBatchSize(0));
  }
}
