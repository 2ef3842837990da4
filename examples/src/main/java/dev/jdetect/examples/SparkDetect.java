package dev.jdetect.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.row_number;

import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.CocoReader;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.VocReader;
import dev.jdetect.train.eval.CocoEvaluator;
import dev.jdetect.train.eval.CocoResult;
import dev.jdetect.train.eval.VocEvaluator;
import dev.jdetect.train.eval.VocResult;
import dev.jdetect.train.spark.DetectionFrames;
import dev.jdetect.train.spark.ObjectDetector;
import dev.jdetect.train.spark.SparkEvaluation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Detects objects in a folder of images on Spark with {@link ObjectDetector}: Spark's {@code
 * binaryFile} source spreads the files over the executors, each executor JVM loads the saved model
 * once and detects its images in batches. Writes the detections as Parquet and as a COCO results
 * file, and with ground truth ({@code --voc} or {@code --coco-annotations}) reports mAP computed by
 * the cluster ({@link SparkEvaluation}).
 *
 * <p>Image ids: with ground truth, an image is matched to its annotation by file name and takes its
 * id there (COCO's image id; for VOC the image's numeric name, or its position in the split when a
 * name is not a number), and only the images the ground truth lists are detected; without, the
 * images sorted by path are numbered 0, 1, ... The Parquet output carries the id beside the path.
 *
 * <p>Local mode from Maven: see {@link SparkTrain} for the JVM flags, with {@code
 * -Dexec.mainClass=dev.jdetect.examples.SparkDetect -Dexec.args="--model-dir runs/tiny-ssd/model
 * runs/tiny-ssd/data/images"}. On a cluster the model directory must be on storage every executor
 * reads.
 */
@Command(
    name = "SparkDetect",
    description = {
      "Runs a saved jdetect model on images with Spark. Writes <out>/detections.parquet (path,"
          + " image_id, detections in pixels, error) and <out>/coco_results.json ([{image_id,"
          + " category_id, bbox: [x, y, w, h], score}]); with --voc or --coco-annotations, prints"
          + " mAP against that ground truth."
    })
public final class SparkDetect implements Callable<Integer> {

  @Option(
      names = {"--model-dir", "--model"},
      paramLabel = "DIR",
      required = true,
      description = "Saved model directory (model.json + weights), as the training mains write.")
  Path modelDir;

  @Option(names = "--out", paramLabel = "DIR", description = "Output folder.")
  Path out = Path.of("runs", "spark-detect");

  @Option(
      names = "--glob",
      paramLabel = "PATTERN",
      description = "File names to read from the folder.")
  String glob = "*.{png,jpg,jpeg,bmp,gif,PNG,JPG,JPEG}";

  @Option(
      names = "--partitions",
      paramLabel = "N",
      converter = Values.Positive.class,
      description =
          "Partitions the images are spread over (default: the cluster's default parallelism;"
              + " binaryFile alone packs many small files into one partition).")
  Integer partitions;

  @Option(
      names = "--batch",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Images per model call on each task.")
  int batch = 8;

  @Option(
      names = "--threshold",
      paramLabel = "SCORE",
      converter = Values.Fraction.class,
      description = "Score threshold on top of the model's own.")
  double threshold;

  @ArgGroup(exclusive = true)
  GroundTruthOptions truth;

  /** Where the ground truth is, if anywhere. */
  static final class GroundTruthOptions {
    @Option(
        names = "--voc",
        paramLabel = "DIR",
        description = "VOCdevkit-style folder (Annotations, ImageSets/Main) to evaluate against.")
    Path voc;

    @Option(
        names = "--coco-annotations",
        paramLabel = "FILE",
        description = "COCO instances JSON to evaluate against (IMAGES is its image folder).")
    Path coco;
  }

  @Option(
      names = "--voc-split",
      paramLabel = "NAME",
      description = "The VOC split to evaluate (ImageSets/Main/<NAME>.txt).")
  String vocSplit = "val";

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master when not run by spark-submit (default local[*]).")
  String master;

  @Parameters(paramLabel = "IMAGES", description = "Folder of images (any Hadoop file system).")
  String images;

  /** The mAP of the last run with ground truth: VOC mAP@0.5, or COCO AP@[.5:.95]. */
  double lastMap = Double.NaN;

  private SparkDetect() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(SparkDetect.class, args);
  }

  @Override
  public Integer call() throws IOException {
    // fail before Spark starts when the model or the ground truth is not there
    ModelDescription description = SavedModel.checkFormat(modelDir);
    AnnotationSet truthSet = readGroundTruth(description.getClasses());
    boolean running = SparkSession.getDefaultSession().isDefined();
    SparkSession.Builder session = SparkSession.builder().appName("jdetect SparkDetect");
    if (master != null || !new SparkConf().contains("spark.master")) {
      session.master(master != null ? master : "local[*]");
    }
    SparkSession spark = session.getOrCreate();
    try {
      Files.createDirectories(out);
      Dataset<Row> files =
          spark.read().format("binaryFile").option("pathGlobFilter", glob).load(images);
      int spread = partitions != null ? partitions : spark.sparkContext().defaultParallelism();
      ObjectDetector detector =
          new ObjectDetector()
              .setModelLocation(modelDir.toAbsolutePath().toString())
              .setBatchSize(batch)
              .setScoreThreshold(threshold);
      Dataset<Row> ids = imageIds(spark, files.select("path"), truthSet);
      Dataset<Row> toDetect = files.select("path", "content").join(ids, "path").repartition(spread);
      String parquet = out.toAbsolutePath().resolve("detections.parquet").toString();
      detector
          .transform(toDetect)
          .select("path", "image_id", "detections", "error")
          .write()
          .mode("overwrite")
          .parquet(parquet);
      Dataset<Row> written = spark.read().parquet(parquet);
      long n = written.count();
      long failed = written.filter(col("error").isNotNull()).count();
      Dataset<Row> detections = flatten(spark, written, description.getClasses(), truthSet);
      Path json = out.resolve("coco_results.json");
      long objects = CocoResults.write(detections.drop("class_id"), json);
      System.out.printf(
          Locale.ROOT,
          "%d images (%d could not be read), %d detections, written to %s and %s%n",
          n,
          failed,
          objects,
          parquet,
          json);
      if (truthSet != null) {
        lastMap = evaluate(spark, truthSet, detections, truth.voc != null);
      }
    } finally {
      if (!running) {
        spark.stop(); // a session the caller started is the caller's to stop
      }
    }
    return 0;
  }

  private AnnotationSet readGroundTruth(List<String> modelClasses) {
    if (truth == null) {
      return null;
    }
    if (truth.voc != null) {
      // the model's classes: an object of another class is an error naming the file
      return VocReader.builder()
          .setRoot(truth.voc)
          .optSplit(vocSplit)
          .setClasses(modelClasses)
          .optVerifyImages(false) // the executors decode the images, the driver only reads XML
          .build()
          .read();
    }
    return CocoReader.builder()
        .setAnnotationFile(truth.coco)
        .optImageDir(Path.of(images))
        .optVerifyImages(false) // the executors decode the images, the driver only reads JSON
        .build()
        .read();
  }

  /**
   * The id of each image ({@code path, image_id}): from the ground truth, matched by file name, or
   * the position in path order.
   */
  static Dataset<Row> imageIds(SparkSession spark, Dataset<Row> paths, AnnotationSet truth) {
    if (truth == null) {
      // one partition, but only paths move: the numbering follows the sorted paths
      return paths.withColumn(
          "image_id", row_number().over(Window.orderBy("path")).minus(1).cast("long"));
    }
    List<Row> rows = new ArrayList<>();
    List<ImageAnnotation> images = truth.getImages();
    boolean numeric = images.stream().allMatch(i -> i.getId().matches("[0-9]{1,18}"));
    for (int i = 0; i < images.size(); i++) {
      ImageAnnotation image = images.get(i);
      String name = image.getFile() == null ? image.getId() : image.getFile().getFileName() + "";
      rows.add(RowFactory.create(name, numeric ? Long.parseLong(image.getId()) : (long) i));
    }
    StructType schema =
        new StructType().add("name", DataTypes.StringType).add("image_id", DataTypes.LongType);
    Dataset<Row> byName = spark.createDataFrame(rows, schema);
    return paths
        .withColumn("name", regexp_extract(col("path"), "[^/]+$", 0))
        .join(byName, "name")
        .select("path", "image_id");
  }

  /**
   * One row per detection: {@code image_id, category_id, score, xmin, ymin, xmax, ymax, class_id}
   * ({@code class_id} the ground truth's label, or the model's without ground truth; {@code
   * category_id} the dataset's own id of the class). Detections of classes the ground truth lacks
   * are dropped.
   */
  static Dataset<Row> flatten(
      SparkSession spark, Dataset<Row> written, List<String> modelClasses, AnnotationSet truth) {
    List<Row> classes = new ArrayList<>();
    for (int k = 1; k <= modelClasses.size(); k++) {
      String name = modelClasses.get(k - 1);
      if (truth == null) {
        classes.add(RowFactory.create(name, k, (long) k));
      } else if (truth.getClassNames().contains(name)) {
        int label = truth.getLabel(name);
        classes.add(RowFactory.create(name, label, truth.getSourceClassId(label)));
      }
    }
    StructType schema =
        new StructType()
            .add("label", DataTypes.StringType)
            .add("class_id", DataTypes.IntegerType)
            .add("category_id", DataTypes.LongType);
    Dataset<Row> classTable = spark.createDataFrame(classes, schema);
    return written
        .select(col("image_id"), explode(col("detections")).as("d"))
        .select("image_id", "d.label", "d.score", "d.xmin", "d.ymin", "d.xmax", "d.ymax")
        .join(org.apache.spark.sql.functions.broadcast(classTable), "label")
        .select("image_id", "category_id", "score", "xmin", "ymin", "xmax", "ymax", "class_id");
  }

  /**
   * Prints VOC mAP@0.5 or COCO's AP and AR of the detections ({@link #flatten}'s rows) against the
   * ground truth, and returns VOC mAP@0.5 or COCO AP@[.5:.95].
   */
  static double evaluate(
      SparkSession spark, AnnotationSet truthSet, Dataset<Row> detections, boolean voc) {
    Dataset<Row> ids = imageIds(spark, truthIdsFrame(spark, truthSet), truthSet);
    Dataset<Row> groundTruth =
        DetectionFrames.groundTruth(spark, truthSet)
            .drop("image_id")
            .withColumn("name", regexp_extract(col("file"), "[^/]+$", 0))
            .join(ids.withColumnRenamed("path", "name"), "name");
    Dataset<Row> predictions =
        detections.select(
            col("image_id"),
            col("class_id"),
            col("score").cast("double"),
            col("xmin").cast("double"),
            col("ymin").cast("double"),
            col("xmax").cast("double"),
            col("ymax").cast("double"));
    int numClasses = truthSet.getNumClasses();
    if (voc) {
      VocResult r =
          SparkEvaluation.voc(
              groundTruth, predictions, VocEvaluator.builder().setNumClasses(numClasses));
      System.out.printf(Locale.ROOT, "VOC mAP@0.5 = %.4f%n", r.getMap());
      return r.getMap();
    }
    CocoResult r =
        SparkEvaluation.coco(
            groundTruth, predictions, CocoEvaluator.builder().setNumClasses(numClasses));
    System.out.println(r.summary());
    return r.getAp();
  }

  /** The ground truth's file names as a {@code path} column, to number them as the images are. */
  private static Dataset<Row> truthIdsFrame(SparkSession spark, AnnotationSet truthSet) {
    List<Row> rows = new ArrayList<>();
    for (ImageAnnotation image : truthSet.getImages()) {
      rows.add(
          RowFactory.create(
              image.getFile() == null ? image.getId() : image.getFile().getFileName() + ""));
    }
    return spark.createDataFrame(rows, new StructType().add("path", DataTypes.StringType));
  }
}
