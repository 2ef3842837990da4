package dev.jdetect.examples;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.DetectionEvaluation;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.Seeds;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.TrainingData;
import dev.jdetect.train.optim.ResumableSgd;
import dev.jdetect.train.spark.SparkTrainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Trains D2L's TinySSD on generated banana images with data-parallel workers on Spark ({@link
 * SparkTrainer}): N workers start together in a barrier stage, each trains on its share of the
 * images and the parameters are averaged every K steps; rank 0 writes a checkpoint per epoch into
 * {@code <out>/checkpoints}. The driver then loads the final parameters, reports VOC mAP@0.5 on the
 * held-out images and saves the model directory {@code <out>/model}.
 *
 * <p>Local mode from Maven (Spark needs its {@code --add-opens} flags in the Maven JVM):
 *
 * <pre>
 * MAVEN_OPTS="$(cat examples/spark-jvm-flags.txt)" mvn -pl examples -Pspark-local exec:java \
 *   -Dexec.mainClass=dev.jdetect.examples.SparkTrain -Dexec.args="--workers 2 --quick"
 * </pre>
 *
 * On a cluster, {@code <out>} must be on storage every executor reads (the data are generated
 * there); see the README's Spark section for {@code spark-submit}.
 */
@Command(
    name = "SparkTrain",
    description = {
      "Trains TinySSD on generated banana images with N data-parallel workers on Spark (parameters"
          + " averaged every K steps), then reports VOC mAP@0.5 on held-out images.",
      "Writes <out>/data, <out>/checkpoints (rank 0) and the model directory <out>/model (for"
          + " Detect and SparkDetect). The batch size is per worker."
    })
public final class SparkTrain implements Callable<Integer> {

  @Mixin TrainingOptions training = new TrainingOptions("runs/spark-train", 96, 6, 0.01);

  @Option(
      names = "--images",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Generated banana images (train + held-out).")
  int images = 400;

  @Option(
      names = "--val-fraction",
      paramLabel = "F",
      converter = Values.Fraction.class,
      description = "Fraction of the images held out for evaluation.")
  double valFraction = 0.2;

  @Option(
      names = "--workers",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Data-parallel workers (Spark tasks started together; needs N free slots).")
  int workers = 2;

  @Option(
      names = "--average-every",
      paramLabel = "K",
      converter = Values.Positive.class,
      description = "Average the workers' parameters after every K steps (and each epoch's end).")
  int averageEvery = 1;

  @Option(
      names = "--master",
      paramLabel = "URL",
      description = "Spark master when not run by spark-submit (default local[*]).")
  String master;

  @Option(names = "--quick", description = "A short run: 160 images, 2 epochs.")
  boolean quick;

  @Option(
      names = "--compare-single",
      description =
          "Then train the same model in this process alone, with the workers' combined batch (N x"
              + " batch) over all training images for as many steps, and print both step times.")
  boolean compareSingle;

  private SparkTrain() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(SparkTrain.class, args);
  }

  @Override
  public Integer call() throws IOException {
    long start = System.nanoTime();
    int count = quick ? 160 : images;
    int epochs = quick ? 2 : training.epochs;
    int numVal = Math.max(1, (int) Math.round(count * valFraction));
    Path out = training.out.toAbsolutePath();
    AnnotationSet all = TrainTinySsd.bananas(out.resolve("data"), count, training.seed);
    int numTrain = all.getImages().size() - numVal;
    AnnotationSet val = all.subset(numTrain, all.getImages().size());
    SparkSession.Builder session = SparkSession.builder().appName("jdetect SparkTrain");
    if (master != null || !new SparkConf().contains("spark.master")) {
      session.master(master != null ? master : "local[*]");
    }
    SparkSession spark = session.getOrCreate();
    try {
      String dataDir = out.resolve("data").toString();
      int input = training.input;
      long seed = training.seed;
      int batch = training.batch;
      double lr = training.lr;
      long fitStart = System.nanoTime();
      SparkTrainer.Result result =
          SparkTrainer.builder()
              .setModel(manager -> tinySsd(manager, input, seed))
              .setData(() -> trainingImages(dataDir, numTrain, input))
              .setTrainer(b -> settings(b, epochs, batch, lr, seed))
              .setWorkers(workers)
              .optAverageEvery(averageEvery)
              .optShardSeed(seed)
              .optCheckpointDir(out.resolve("checkpoints").toString())
              .optResume(training.resume)
              .build()
              .fit(spark);
      double fitSeconds = (System.nanoTime() - fitStart) / 1e9;
      double stepSeconds = fitSeconds / Math.max(1, result.globalStep());
      try (NDManager manager = NDManager.newBaseManager()) {
        Ssd model = tinySsd(manager, input, seed);
        result.loadInto(model);
        double map =
            DetectionEvaluation.voc(model, val, new Resize(input, input), 50, 0.5, false).getMap();
        Path modelDir = out.resolve("model");
        SavedModel.save(
            model, TrainTinySsd.description(all.getClassNames(), "multibox", input), modelDir);
        System.out.printf(
            Locale.ROOT,
            "%d workers, %d steps over %d epochs (%.3f s per step, Spark's start included):"
                + " held-out VOC mAP@0.5 = %.4f, %.1f s in total; model saved to %s%n",
            workers,
            result.globalStep(),
            result.epochs(),
            stepSeconds,
            map,
            (System.nanoTime() - start) / 1e9,
            modelDir);
      }
      if (compareSingle) {
        single(dataDir, numTrain, epochs, stepSeconds, out.resolve("single"));
      }
    } finally {
      spark.stop();
    }
    return 0;
  }

  /**
   * Trains in this process alone with the batch of all workers together (the large-batch SGD that
   * averaging every step reproduces) and prints its step time next to the Spark run's.
   */
  private void single(String dataDir, int numTrain, int epochs, double sparkStep, Path out)
      throws IOException {
    int batch = training.batch * workers;
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = tinySsd(manager, training.input, training.seed);
      DetectionTrainer.Builder b = DetectionTrainer.builder().setModel(model).optOutputDir(out);
      settings(b, epochs, batch, training.lr, training.seed);
      long begin = System.nanoTime();
      try (DetectionTrainer trainer = b.build()) {
        trainer.fit(trainingImages(dataDir, numTrain, training.input));
        double seconds = (System.nanoTime() - begin) / 1e9;
        double step = seconds / Math.max(1, trainer.getGlobalStep());
        System.out.printf(
            Locale.ROOT,
            "one process, batch %d: %d steps, %.3f s per step; Spark with %d workers x batch %d,"
                + " averaging every %d: %.3f s per step (%.2fx)%n",
            batch,
            trainer.getGlobalStep(),
            step,
            workers,
            training.batch,
            averageEvery,
            sparkStep,
            sparkStep / step);
      }
    }
  }

  /** TinySSD with the MultiBox loss, initialised from the seed (the same on every worker). */
  private static Ssd tinySsd(NDManager manager, int input, long seed) {
    ModelConfig config =
        ModelConfig.of("tiny-ssd", 1).withInputSize(input, input).withOption("loss", "multibox");
    Ssd model = (Ssd) ModelZoo.builtin().create(config);
    Seeds.initialize(model, manager, seed, DataType.FLOAT32, new Shape(1, 3, input, input));
    return model;
  }

  /** The training images (all but the held-out tail), resized, with random flips. */
  private static TrainingData trainingImages(String dataDir, int numTrain, int input) {
    AnnotationSet all = TrainTinySsd.readBananas(Path.of(dataDir));
    return SampleData.builder()
        .setAnnotations(all.subset(0, numTrain))
        .optPreprocess(new Resize(input, input))
        .optAugmentation(new HorizontalFlip())
        .build();
  }

  private static void settings(
      DetectionTrainer.Builder b, int epochs, int batch, double lr, long seed) {
    b.optOptimizer(ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(5e-4f).build())
        .optSchedule(LrSchedule.builder().setBaseLr(lr).optCosine(epochs, lr * 0.01).build())
        .optEpochs(epochs)
        .optBatchSize(batch)
        .optSeed(seed)
        .optGradientClipNorm(10);
  }
}
