package dev.jdetect.examples;

import static org.apache.spark.sql.functions.col;

import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Detects objects in a folder of images (or a glob) on Spark: Spark's {@code binaryFile} source
 * spreads the files over the executors, each executor JVM loads the saved model once, decodes and
 * detects its images, and the results (detections in image pixels, or an error for an image that
 * cannot be decoded) are written as Parquet. Nothing is collected to the driver but counts.
 *
 * <p>Local mode from Maven: see {@link SparkTrain} for the JVM flags, with {@code
 * -Dexec.mainClass=dev.jdetect.examples.SparkDetect -Dexec.args="--model-dir runs/tiny-ssd/model
 * runs/tiny-ssd/data/images"}. On a cluster the model directory must be on storage every executor
 * reads.
 */
@Command(
    name = "SparkDetect",
    description = {
      "Runs a saved jdetect model on images with Spark and writes <out>/detections.parquet"
          + " (path, width, height, detections in pixels, error)."
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
      names = "--master",
      paramLabel = "URL",
      description = "Spark master when not run by spark-submit (default local[*]).")
  String master;

  @Parameters(paramLabel = "IMAGES", description = "Folder of images (any Hadoop file system).")
  String images;

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
  public Integer call() {
    // fail on the driver, before any executor starts, when the model is not there
    if (!Files.isRegularFile(modelDir.resolve("model.json"))) {
      throw new IllegalArgumentException(
          "no saved model in " + modelDir + " (model.json missing); train one first");
    }
    SparkSession.Builder session = SparkSession.builder().appName("jdetect SparkDetect");
    if (master != null || !new SparkConf().contains("spark.master")) {
      session.master(master != null ? master : "local[*]");
    }
    SparkSession spark = session.getOrCreate();
    try {
      String model = modelDir.toAbsolutePath().toString();
      Dataset<Row> files =
          spark.read().format("binaryFile").option("pathGlobFilter", glob).load(images);
      MapPartitionsFunction<Row, Row> detect = rows -> detectAll(model, rows);
      int spread = partitions != null ? partitions : spark.sparkContext().defaultParallelism();
      Dataset<Row> results =
          files
              .select("path", "content")
              .repartition(spread)
              .mapPartitions(detect, ExpressionEncoder.apply(ExecutorDetector.RESULT));
      String parquet = out.toAbsolutePath().resolve("detections.parquet").toString();
      results.write().mode("overwrite").parquet(parquet);
      Dataset<Row> written = spark.read().parquet(parquet);
      long n = written.count();
      long failed = written.filter(col("error").isNotNull()).count();
      Row objects = written.selectExpr("sum(size(detections))").first();
      System.out.printf(
          Locale.ROOT,
          "%d images (%d could not be read), %s detections, written to %s%n",
          n,
          failed,
          objects.isNullAt(0) ? "0" : objects.get(0).toString(),
          parquet);
    } finally {
      spark.stop();
    }
    return 0;
  }

  private static Iterator<Row> detectAll(String model, Iterator<Row> rows) {
    List<Row> out = new ArrayList<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      out.add(ExecutorDetector.detect(model, r.getString(0), (byte[]) r.get(1)));
    }
    return out.iterator();
  }
}
