package dev.jdetect.train;

import ai.djl.Device;
import dev.jdetect.train.optim.ResumableOptimizer;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The settings of a {@link DetectionTrainer}: optimisation, batching, seed, checkpoints, output and
 * listeners. Built through {@link DetectionTrainer#builder()}, whose optional settings are the
 * {@code opt} methods of {@link BaseBuilder}.
 *
 * <p>The settings that decide the course of a run (seed, batch size, optimizer, schedule, loss
 * weights, clipping) are summarised by {@link #describe()} and hashed by {@link #hash()}; every
 * checkpoint stores both, and resuming with other settings is refused.
 */
public final class TrainingConfig {

  private final ResumableOptimizer optimizer;
  private final LrSchedule schedule;
  private final int epochs;
  private final int batchSize;
  private final boolean dropLast;
  private final long seed;
  private final Map<String, Float> lossWeights;
  private final double clipNorm;
  private final int maxSkippedSteps;
  private final boolean reseedEngine;
  private final Path checkpointDir;
  private final int keepCheckpoints;
  private final String keepBestMetric;
  private final boolean resume;
  private final boolean startClean;
  private final Path outputDir;
  private final EpochEvaluator evaluator;
  private final PrintStream progressOut;
  private final ProgressReporter.Mode progressMode;
  private final Device[] devices;
  private final List<TrainingListener> listeners;

  TrainingConfig(BaseBuilder<?> b) {
    this.optimizer = b.optimizer != null ? b.optimizer : ResumableSgd.builder().build();
    this.schedule = b.schedule != null ? b.schedule : LrSchedule.constant(0.01);
    this.epochs = b.epochs;
    this.batchSize = b.batchSize;
    this.dropLast = b.dropLast;
    this.seed = b.seed;
    this.lossWeights = Collections.unmodifiableMap(new LinkedHashMap<>(b.lossWeights));
    this.clipNorm = b.clipNorm;
    this.maxSkippedSteps = b.maxSkippedSteps;
    this.reseedEngine = b.reseedEngine;
    this.checkpointDir = b.checkpointDir;
    this.keepCheckpoints = b.keepCheckpoints;
    this.keepBestMetric = b.keepBestMetric;
    this.resume = b.resume;
    this.startClean = b.startClean;
    this.outputDir = b.outputDir;
    this.evaluator = b.evaluator;
    this.progressOut = b.progressOut;
    this.progressMode = b.progressMode;
    this.devices = b.devices == null ? null : b.devices.clone();
    this.listeners = List.copyOf(b.listeners);
  }

  /**
   * Describes the settings that decide the course of a run, one {@code key=value} per line (the
   * number of epochs is left out, so a finished run can be extended).
   *
   * @return the description stored in checkpoints
   */
  public String describe() {
    return "seed="
        + seed
        + "\nbatchSize="
        + batchSize
        + "\ndropLast="
        + dropLast
        + "\noptimizer="
        + optimizer
        + "\nschedule="
        + schedule
        + "\nlossWeights="
        + lossWeights
        + "\nclipNorm="
        + clipNorm
        + "\nreseedEngine="
        + reseedEngine;
  }

  /**
   * Returns the SHA-256 of {@link #describe()} as hex.
   *
   * @return 64 hex digits
   */
  public String hash() {
    return Checkpoint.sha256Hex(describe());
  }

  ResumableOptimizer optimizer() {
    return optimizer;
  }

  LrSchedule schedule() {
    return schedule;
  }

  int epochs() {
    return epochs;
  }

  int batchSize() {
    return batchSize;
  }

  boolean dropLast() {
    return dropLast;
  }

  long seed() {
    return seed;
  }

  Map<String, Float> lossWeights() {
    return lossWeights;
  }

  double clipNorm() {
    return clipNorm;
  }

  int maxSkippedSteps() {
    return maxSkippedSteps;
  }

  boolean reseedEngine() {
    return reseedEngine;
  }

  Path checkpointDir() {
    return checkpointDir;
  }

  int keepCheckpoints() {
    return keepCheckpoints;
  }

  String keepBestMetric() {
    return keepBestMetric;
  }

  boolean resume() {
    return resume;
  }

  boolean startClean() {
    return startClean;
  }

  Path outputDir() {
    return outputDir;
  }

  EpochEvaluator evaluator() {
    return evaluator;
  }

  PrintStream progressOut() {
    return progressOut;
  }

  ProgressReporter.Mode progressMode() {
    return progressMode;
  }

  Device[] devices() {
    return devices == null ? null : devices.clone();
  }

  List<TrainingListener> listeners() {
    return listeners;
  }

  /**
   * The optional settings of a trainer, shared by {@link DetectionTrainer.Builder}.
   *
   * @param <T> the concrete builder
   */
  public abstract static class BaseBuilder<T extends BaseBuilder<T>> {
    private ResumableOptimizer optimizer;
    private LrSchedule schedule;
    private int epochs = 1;
    private int batchSize = 8;
    private boolean dropLast;
    private long seed = 42;
    private final Map<String, Float> lossWeights = new LinkedHashMap<>();
    private double clipNorm;
    private int maxSkippedSteps;
    private boolean reseedEngine = true;
    private Path checkpointDir;
    private int keepCheckpoints = 2;
    private String keepBestMetric;
    private boolean resume;
    private boolean startClean;
    private Path outputDir;
    private EpochEvaluator evaluator;
    private PrintStream progressOut = System.out;
    private ProgressReporter.Mode progressMode = ProgressReporter.Mode.AUTO;
    private Device[] devices;
    private final List<TrainingListener> listeners = new ArrayList<>();

    /** Creates a builder with the defaults. */
    protected BaseBuilder() {}

    /**
     * Returns this builder as its concrete type.
     *
     * @return this
     */
    protected abstract T self();

    /**
     * Sets the optimizer (default {@link ResumableSgd} with momentum 0.9 and weight decay 1e-4).
     *
     * @param optimizer the optimizer
     * @return this builder
     */
    public T optOptimizer(ResumableOptimizer optimizer) {
      this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
      return self();
    }

    /**
     * Sets the learning-rate schedule (default constant 0.01).
     *
     * @param schedule the schedule
     * @return this builder
     */
    public T optSchedule(LrSchedule schedule) {
      this.schedule = Objects.requireNonNull(schedule, "schedule");
      return self();
    }

    /**
     * Sets the total number of epochs of the run (a resumed run counts the epochs already done).
     *
     * @param epochs positive, default 1
     * @return this builder
     */
    public T optEpochs(int epochs) {
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
      }
      this.epochs = epochs;
      return self();
    }

    /**
     * Sets the batch size.
     *
     * @param batchSize positive, default 8
     * @return this builder
     */
    public T optBatchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
      this.batchSize = batchSize;
      return self();
    }

    /**
     * Drops the last, incomplete batch of each epoch.
     *
     * @param dropLast default false
     * @return this builder
     */
    public T optDropLast(boolean dropLast) {
      this.dropLast = dropLast;
      return self();
    }

    /**
     * Sets the seed of the run: the sample order, the augmentation and the engine's generator at
     * every step are drawn from it. Initialise the model with {@link Seeds#initialize} and the same
     * seed to fix its initial weights too.
     *
     * @param seed default 42
     * @return this builder
     */
    public T optSeed(long seed) {
      this.seed = seed;
      return self();
    }

    /**
     * Sets the weight of a named loss in the total (default 1 for every loss).
     *
     * @param lossName e.g. {@code "loss_box_reg"}
     * @param weight finite, non-negative
     * @return this builder
     */
    public T optLossWeight(String lossName, float weight) {
      if (!(weight >= 0f) || Float.isInfinite(weight)) {
        throw new IllegalArgumentException(
            "weight of '" + lossName + "' must be finite and >= 0, got " + weight);
      }
      lossWeights.put(lossName, weight);
      return self();
    }

    /**
     * Clips the gradients so that their global L2 norm is at most {@code maxNorm} ({@code
     * torch.nn.utils.clip_grad_norm_}).
     *
     * @param maxNorm positive, or 0 to disable (default)
     * @return this builder
     */
    public T optGradientClipNorm(double maxNorm) {
      if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
        throw new IllegalArgumentException("maxNorm must be finite and >= 0, got " + maxNorm);
      }
      this.clipNorm = maxNorm;
      return self();
    }

    /**
     * Lets the trainer skip steps whose gradients are not finite (NaN or infinite global norm, with
     * a finite loss) instead of stopping, as mixed-precision loss scalers do: the gradients are
     * discarded, the parameters stay, a message names the first parameter at fault, and the
     * schedule moves on. After {@code maxInARow} skipped steps in a row the trainer throws {@link
     * NonFiniteLossException}. Non-finite losses always stop training.
     *
     * @param maxInARow at most this many consecutive skipped steps; 0 (default) stops at the first
     * @return this builder
     */
    public T optSkipNonFiniteGradients(int maxInARow) {
      if (maxInARow < 0) {
        throw new IllegalArgumentException("maxInARow must be >= 0, got " + maxInARow);
      }
      this.maxSkippedSteps = maxInARow;
      return self();
    }

    /**
     * Turns the per-step re-seeding of the engine's generator on or off.
     *
     * @param reseed default true
     * @return this builder
     */
    public T optReseedEngine(boolean reseed) {
      this.reseedEngine = reseed;
      return self();
    }

    /**
     * Writes a checkpoint into this folder after every epoch. A run that does not resume refuses a
     * folder that already holds checkpoints, unless {@link #optStartClean(boolean)} is set.
     *
     * @param dir the folder (created when needed), or {@code null} for no checkpoints (default)
     * @return this builder
     */
    public T optCheckpointDir(Path dir) {
      this.checkpointDir = dir;
      return self();
    }

    /**
     * Sets how many epoch checkpoints to keep; older ones are deleted.
     *
     * @param keep positive, default 2
     * @return this builder
     */
    public T optKeepCheckpoints(int keep) {
      if (keep < 1) {
        throw new IllegalArgumentException("keep must be >= 1, got " + keep);
      }
      this.keepCheckpoints = keep;
      return self();
    }

    /**
     * Also keeps the checkpoint of the epoch with the highest value of a validation metric (from
     * the {@link EpochEvaluator}) as {@value Checkpoint#BEST_FILE}, whatever {@link
     * #optKeepCheckpoints} deletes.
     *
     * @param metric the metric's name, e.g. {@code "mAP@0.5"}, or {@code null} for none (default)
     * @return this builder
     */
    public T optKeepBest(String metric) {
      this.keepBestMetric = metric;
      return self();
    }

    /**
     * Makes {@link DetectionTrainer#fit} resume from the newest valid checkpoint of the checkpoint
     * folder, if there is one. The checkpoint must have been written with the same settings (see
     * {@link TrainingConfig#describe()}).
     *
     * @param resume default false
     * @return this builder
     */
    public T optResume(boolean resume) {
      this.resume = resume;
      return self();
    }

    /**
     * Lets a run that does not resume delete the checkpoints it finds in its checkpoint folder
     * (only the checkpoint files; nothing else in the folder) instead of refusing to start.
     *
     * @param startClean default false
     * @return this builder
     */
    public T optStartClean(boolean startClean) {
      this.startClean = startClean;
      return self();
    }

    /**
     * Writes {@code metrics.csv} into this folder after every epoch.
     *
     * @param dir the folder, or {@code null} for none (default)
     * @return this builder
     */
    public T optOutputDir(Path dir) {
      this.outputDir = dir;
      return self();
    }

    /**
     * Sets the end-of-epoch evaluation.
     *
     * @param evaluator the evaluator, or {@code null} for none (default)
     * @return this builder
     */
    public T optEvaluator(EpochEvaluator evaluator) {
      this.evaluator = evaluator;
      return self();
    }

    /**
     * Sets where and how progress is printed.
     *
     * @param out the stream (default {@code System.out})
     * @param mode the mode (default {@link ProgressReporter.Mode#AUTO})
     * @return this builder
     */
    public T optProgress(PrintStream out, ProgressReporter.Mode mode) {
      this.progressOut = Objects.requireNonNull(out, "out");
      this.progressMode = Objects.requireNonNull(mode, "mode");
      return self();
    }

    /**
     * Sets the devices (default {@code Engine.getInstance().getDevices()}).
     *
     * @param devices one or more devices; the first holds the parameters
     * @return this builder
     */
    public T optDevices(Device... devices) {
      if (devices == null || devices.length == 0) {
        throw new IllegalArgumentException("devices must not be empty");
      }
      this.devices = devices.clone();
      return self();
    }

    /**
     * Adds a listener, called after the trainer's own (progress, checkpoints, metrics CSV).
     *
     * @param listener the listener
     * @return this builder
     */
    public T optListener(TrainingListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return self();
    }
  }
}
