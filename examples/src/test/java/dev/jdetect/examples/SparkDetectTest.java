package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.testkit.SmallSavedModel;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.CocoReader;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ObjectAnnotation;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.VocReader;
import dev.jdetect.train.eval.GroundTruth;
import dev.jdetect.train.eval.Predictions;
import dev.jdetect.train.eval.VocEvaluator;
import dev.jdetect.train.spark.ObjectDetector;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SparkDetect}'s COCO results file and its evaluation, on a few generated images. */
class SparkDetectTest {

  private static final List<String> CLASSES = List.of("banana");

  @TempDir static Path dir;
  private static SparkSession spark;
  private static Path model;

  @BeforeAll
  static void setUp() throws Exception {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("jdetect-examples-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.adaptive.enabled", "false")
            // tiny queries: interpreting them beats compiling generated code
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .getOrCreate();
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.BANANA)
            .optSeed(4)
            .optNumImages(8)
            .optImageSize(64)
            .build();
    generator.writeVoc(dir.resolve("voc"));
    generator.writeCoco(dir.resolve("coco"), "val");
    model = SmallSavedModel.save(dir.resolve("model"), CLASSES, b -> b.optScoreThreshold(0.05f));
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static AnnotationSet voc() {
    return VocReader.builder()
        .setRoot(dir.resolve("voc"))
        .optSplit("val")
        .setClasses(CLASSES)
        .build()
        .read();
  }

  /** The Parquet rows SparkDetect would write if the model found exactly the ground truth. */
  private static Dataset<Row> perfectDetections(AnnotationSet truth, int spoiled) {
    List<Row> rows = new ArrayList<>();
    int n = 0;
    for (ImageAnnotation image : truth.getImages()) {
      List<Row> found = new ArrayList<>();
      for (ObjectAnnotation o : image.getObjects()) {
        float shift = n++ == spoiled ? 40 : 0;
        found.add(
            RowFactory.create(
                truth.getClassName(o.getLabel()),
                o.getLabel(),
                0.9f,
                o.getX1() + shift,
                o.getY1(),
                o.getX2() + shift,
                o.getY2()));
      }
      rows.add(
          RowFactory.create(
              "file:" + image.getFile(),
              Long.parseLong(image.getId()),
              scala.jdk.javaapi.CollectionConverters.asScala(found).toSeq(),
              null));
    }
    StructType schema =
        new StructType()
            .add("path", DataTypes.StringType)
            .add("image_id", DataTypes.LongType)
            .add("detections", ObjectDetector.DETECTIONS)
            .add("error", DataTypes.StringType);
    return spark.createDataFrame(rows, schema);
  }

  @Test
  void cocoResultsHoldTheBoxesAsXywhAndPerfectDetectionsScoreOne() throws Exception {
    Path annotations = dir.resolve("coco/annotations/instances_val.json");
    AnnotationSet truth =
        CocoReader.builder()
            .setAnnotationFile(annotations)
            .optImageDir(dir.resolve("coco/val"))
            .build()
            .read();
    Dataset<Row> detections =
        SparkDetect.flatten(spark, perfectDetections(truth, -1), CLASSES, truth);
    Path json = dir.resolve("coco_results.json");
    long written = CocoResults.write(detections.drop("class_id"), json);

    JsonArray expected =
        JsonParser.parseString(Files.readString(annotations))
            .getAsJsonObject()
            .getAsJsonArray("annotations");
    JsonArray results = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
    assertEquals(expected.size(), written);
    assertEquals(expected.size(), results.size());
    for (JsonElement e : expected) {
      JsonObject want = e.getAsJsonObject();
      boolean matched = false;
      for (JsonElement r : results) {
        JsonObject got = r.getAsJsonObject();
        if (got.get("image_id").getAsLong() != want.get("image_id").getAsLong()) {
          continue;
        }
        assertEquals(want.get("category_id").getAsLong(), got.get("category_id").getAsLong());
        assertEquals(0.9, got.get("score").getAsDouble(), 1e-6);
        for (int k = 0; k < 4; k++) {
          assertEquals(
              want.getAsJsonArray("bbox").get(k).getAsDouble(),
              got.getAsJsonArray("bbox").get(k).getAsDouble(),
              1e-4,
              "bbox " + k + " of image " + want.get("image_id"));
        }
        matched = true;
      }
      assertTrue(matched, "a result for " + want);
    }
    assertEquals(1.0, SparkDetect.evaluate(spark, truth, detections, false), 1e-12);
  }

  @Test
  void vocMapIsOneForTheGroundTruthAndLowerForAMovedBox() {
    AnnotationSet truth = voc();
    Dataset<Row> perfect = SparkDetect.flatten(spark, perfectDetections(truth, -1), CLASSES, truth);
    assertEquals(1.0, SparkDetect.evaluate(spark, truth, perfect, true), 1e-12);
    Dataset<Row> spoiled = SparkDetect.flatten(spark, perfectDetections(truth, 0), CLASSES, truth);
    double map = SparkDetect.evaluate(spark, truth, spoiled, true);
    assertTrue(map < 0.99, "mAP with one box moved off its object: " + map);
  }

  /** The whole main on the VOC images: its mAP is the single-process evaluator's on its JSON. */
  @Test
  void mainWritesParquetAndJsonAndPrintsTheirMap() throws Exception {
    Path out = dir.resolve("out");
    StringWriter err = new StringWriter();
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stdout = System.out;
    int code;
    System.setOut(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      code =
          Cli.execute(
              SparkDetect.class,
              new PrintWriter(new StringWriter()),
              new PrintWriter(err),
              "--model-dir",
              model.toString(),
              "--out",
              out.toString(),
              "--voc",
              dir.resolve("voc").toString(),
              "--partitions",
              "2",
              "--batch",
              "2",
              dir.resolve("voc/JPEGImages").toString());
    } finally {
      System.setOut(stdout);
    }
    String printed = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, err + printed);
    AnnotationSet truth = voc();
    List<Row> parquet =
        spark.read().parquet(out.resolve("detections.parquet").toString()).collectAsList();
    assertEquals(truth.getImages().size(), parquet.size(), printed);
    parquet.forEach(r -> assertTrue(r.isNullAt(r.fieldIndex("error")), r.toString()));

    // the single-process evaluator on the JSON's detections, images in ascending id
    TreeMap<Long, List<double[]>> byImage = new TreeMap<>();
    for (ImageAnnotation image : truth.getImages()) {
      byImage.put(Long.parseLong(image.getId()), new ArrayList<>());
    }
    JsonArray results =
        JsonParser.parseString(Files.readString(out.resolve("coco_results.json"))).getAsJsonArray();
    assertTrue(results.size() > 0, printed);
    for (JsonElement e : results) {
      JsonObject r = e.getAsJsonObject();
      JsonArray b = r.getAsJsonArray("bbox");
      double x = b.get(0).getAsDouble();
      double y = b.get(1).getAsDouble();
      byImage
          .get(r.get("image_id").getAsLong())
          .add(
              new double[] {
                r.get("category_id").getAsLong(),
                r.get("score").getAsDouble(),
                x,
                y,
                x + b.get(2).getAsDouble(),
                y + b.get(3).getAsDouble()
              });
    }
    VocEvaluator reference = VocEvaluator.builder().setNumClasses(1).build();
    for (ImageAnnotation image : truth.getImages()) {
      List<double[]> mine = byImage.get(Long.parseLong(image.getId()));
      mine.sort(Comparator.comparingDouble((double[] d) -> -d[1]));
      Predictions.Builder p = Predictions.builder();
      mine.forEach(d -> p.add((int) d[0], d[1], d[2], d[3], d[4], d[5]));
      reference.add(Long.parseLong(image.getId()), GroundTruth.of(image), p.build());
    }
    Matcher m = Pattern.compile("VOC mAP@0.5 = ([0-9.]+)").matcher(printed);
    assertTrue(m.find(), printed);
    assertEquals(
        String.format(Locale.ROOT, "%.4f", reference.evaluate().getMap()), m.group(1), printed);
  }

  @Test
  void withoutGroundTruthImagesAreNumberedInPathOrder() {
    List<String> paths = List.of("file:/b/2.jpg", "file:/a/9.jpg", "file:/b/10.jpg");
    Dataset<Row> frame = spark.createDataset(paths, Encoders.STRING()).toDF("path");
    Dataset<Row> ids = SparkDetect.imageIds(spark, frame, null);
    assertEquals(DataTypes.LongType, ids.schema().apply("image_id").dataType());
    List<Row> rows = ids.orderBy("image_id").collectAsList();
    assertEquals(
        List.of("file:/a/9.jpg", "file:/b/10.jpg", "file:/b/2.jpg"),
        rows.stream().map(r -> r.getString(0)).toList());
    assertEquals(List.of(0L, 1L, 2L), rows.stream().map(r -> r.getLong(1)).toList());
  }
}
