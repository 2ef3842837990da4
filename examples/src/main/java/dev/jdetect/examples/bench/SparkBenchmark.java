package dev.jdetect.examples.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.data.ImageFiles;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.spark.ObjectDetector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Spark inference throughput: images per second of {@link ObjectDetector} on a local Spark master
 * against the single-process loop (one DJL predictor, decode then {@code batchPredict} in batches
 * of the same size) over the same generated JPEGs with the same saved model. Both count the whole
 * path from file bytes to detections; the Spark figure includes Spark's own scheduling.
 *
 * <pre>
 * MAVEN_OPTS="$(cat examples/spark-jvm-flags.txt)" mvn -pl examples -Pspark-local exec:java \
 *   -Dexec.mainClass=dev.jdetect.examples.bench.SparkBenchmark -Dexec.args="--images 500"
 * </pre>
 */
@Command(
    name = "SparkBenchmark",
    description = {
      "Images per second of the Spark ObjectDetector on local[N] against a single-process"
          + " predictor loop over the same generated JPEGs and saved model; prints the ratio."
    })
public final class SparkBenchmark implements Callable<Integer> {

  @Mixin TimingOptions timing = new TimingOptions(1, 3);

  @Option(
      names = "--images",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Generated JPEGs (shapes, 256x256).")
  int images = 500;

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description = "Zoo model, random weights, 3 classes, 256x256 input.")
  String model = "tiny-ssd";

  @Option(
      names = "--batch",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Images per model call, on both sides.")
  int batch = 8;

  @Option(
      names = "--cores",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Spark's local[N] (tasks at once) and partitions.")
  int cores = 2;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description = "Keep the images and the model here (default: a temporary folder).")
  Path workDir;

  private SparkBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(SparkBenchmark.class, args);
  }

  @Override
  public Integer call() throws Exception {
    timing.applyThreads();
    Path dir = workDir != null ? workDir : Files.createTempDirectory("jdetect-spark-bench");
    Path folder = dir.resolve("images");
    List<Path> files = writeImages(folder, images);
    Path modelDir = dir.resolve("model");
    save(model, modelDir);

    double[] single = new double[timing.iters];
    long singleFound;
    try (ZooModel<Image, DetectedObjects> zoo = load(modelDir)) {
      singleFound = loop(zoo, files.subList(0, Math.min(files.size(), 2 * batch)));
      for (int w = 1; w < timing.warmup; w++) {
        loop(zoo, files);
      }
      for (int i = 0; i < timing.iters; i++) {
        long start = System.nanoTime();
        singleFound = loop(zoo, files);
        single[i] = (System.nanoTime() - start) / 1e9;
      }
    }

    SparkSession spark =
        SparkSession.builder()
            .master("local[" + cores + "]")
            .appName("jdetect SparkBenchmark")
            .config("spark.ui.enabled", "false")
            .getOrCreate();
    double[] distributed = new double[timing.iters];
    long sparkFound = 0;
    try {
      ObjectDetector detector =
          new ObjectDetector().setModelLocation(modelDir.toString()).setBatchSize(batch);
      Dataset<Row> all =
          spark.read().format("binaryFile").load(folder.toString()).repartition(cores).cache();
      all.count(); // the bytes in memory, so both sides start from file bytes at hand
      // warm-up: every task slot loads the model (once per JVM) and compiles its code paths
      count(detector.transform(all.limit(2 * batch * cores).repartition(cores)));
      for (int w = 1; w < timing.warmup; w++) {
        count(detector.transform(all));
      }
      for (int i = 0; i < timing.iters; i++) {
        long start = System.nanoTime();
        sparkFound = count(detector.transform(all));
        distributed[i] = (System.nanoTime() - start) / 1e9;
      }
    } finally {
      spark.stop();
    }
    double one = files.size() / Timings.median(single);
    double many = files.size() / Timings.median(distributed);
    System.out.printf(
        Locale.ROOT,
        "%s, %d images, batch %d, %d intra-op thread(s) per predictor%n"
            + "single-process predictor loop: %8.2f images/s (%d detections)%n"
            + "Spark local[%d], ObjectDetector: %8.2f images/s (%d detections)%n"
            + "ratio Spark / single: %.2fx%n",
        model,
        files.size(),
        batch,
        timing.threads,
        one,
        singleFound,
        cores,
        many,
        sparkFound,
        many / one);
    return 0;
  }

  /** Writes {@code n} 256x256 JPEGs of generated shapes. */
  private static List<Path> writeImages(Path folder, int n) throws IOException {
    Files.createDirectories(folder);
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(1)
            .optNumImages(n)
            .optImageSize(256)
            .build();
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path file = folder.resolve(String.format(Locale.ROOT, "shapes%05d.jpg", i));
      ImageIO.write(generator.generate(i).getImage(), "jpg", file.toFile());
      files.add(file);
    }
    return files;
  }

  private static void save(String name, Path dir) throws IOException {
    List<String> classes = List.of("ellipse", "rectangle", "triangle");
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel net =
          ModelZoo.builtin().create(ModelConfig.of(name, classes.size()).withInputSize(256, 256));
      net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 256, 256));
      SavedModel.save(
          net,
          ModelDescription.builder()
              .setArchitecture(name)
              .setClasses(classes)
              .optInputSize(256, 256)
              .optScoreThreshold(0.3f)
              .build(),
          dir);
    }
  }

  private static ZooModel<Image, DetectedObjects> load(Path modelDir) throws Exception {
    return Criteria.builder()
        .setTypes(Image.class, DetectedObjects.class)
        .optModelPath(modelDir)
        .optEngine("PyTorch")
        .optTranslatorFactory(new DetectionTranslatorFactory())
        .build()
        .loadModel();
  }

  /** One pass of the single-process loop: decode a batch, detect it; returns the detections. */
  private long loop(ZooModel<Image, DetectedObjects> zoo, List<Path> files) throws Exception {
    long found = 0;
    try (Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
      for (int from = 0; from < files.size(); from += batch) {
        List<Image> decoded = new ArrayList<>();
        for (Path file : files.subList(from, Math.min(files.size(), from + batch))) {
          byte[] bytes = Files.readAllBytes(file);
          decoded.add(ImageFactory.getInstance().fromImage(ImageFiles.read(bytes, file + "")));
        }
        for (DetectedObjects d : predictor.batchPredict(decoded)) {
          found += d.getNumberOfObjects();
        }
      }
    }
    return found;
  }

  private static long count(Dataset<Row> detected) {
    Row r = detected.agg(sum(size(col("detections")))).first();
    return r.isNullAt(0) ? 0 : r.getLong(0);
  }
}
