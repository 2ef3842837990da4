package dev.jdetect.examples;

import dev.jdetect.examples.cli.Values;
import dev.jdetect.train.DetectionTrainer;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every training main shares, with the same names and meaning; each main sets its own
 * defaults. {@link #trainer} gives every main the same checkpointing and resume behaviour.
 */
final class TrainingOptions {

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Output folder (data, checkpoints, metrics.csv/png, model, predictions).")
  Path out;

  @Option(
      names = "--input",
      paramLabel = "PIXELS",
      converter = Values.Positive.class,
      description = "Side of the square network input; images are resized to it.")
  int input;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Training epochs.")
  int epochs;

  @Option(
      names = "--batch",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Batch size.")
  int batch = 8;

  @Option(
      names = "--lr",
      paramLabel = "RATE",
      converter = Values.PositiveNumber.class,
      description = "Base learning rate (linear warm-up, then cosine decay to 1%% of it).")
  double lr;

  @Option(names = "--seed", paramLabel = "N", description = "Seed of data generation and training.")
  long seed = 1;

  @Option(
      names = "--resume",
      description =
          "Continue from the newest checkpoint in <out>/checkpoints (start afresh if there is"
              + " none); the other options must be those of the interrupted run.")
  boolean resume;

  TrainingOptions(String out, int input, int epochs, double lr) {
    this.out = Path.of(out);
    this.input = input;
    this.epochs = epochs;
    this.lr = lr;
  }

  /**
   * A trainer builder with what every training main shares: epochs, batch size and seed, gradient
   * clipping at norm 10, skipping up to 5 non-finite steps in a row, {@code metrics.csv} / {@code
   * metrics.png} in {@code out}, a checkpoint per epoch in {@code out/checkpoints} and, with {@code
   * resume}, continuing from the newest of them.
   */
  static DetectionTrainer.Builder trainer(
      Path out, int epochs, int batch, long seed, boolean resume) {
    return DetectionTrainer.builder()
        .optEpochs(epochs)
        .optBatchSize(batch)
        .optSeed(seed)
        .optGradientClipNorm(10)
        .optSkipNonFiniteGradients(5)
        .optOutputDir(out)
        .optListener(new MetricsPlot(out))
        .optCheckpointDir(out.resolve("checkpoints"))
        .optResume(resume);
  }
}
