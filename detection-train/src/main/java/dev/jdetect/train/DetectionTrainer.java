package dev.jdetect.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.data.TrainingData;
import dev.jdetect.train.optim.ResumableOptimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;

/**
 * Trains any {@link DetectionModel} with its own loop: per step it loads a batch, runs one gradient
 * step (the model's training forward pass, which returns named scalar losses, backward on their
 * weighted sum, optional clipping of the gradients by their global norm, and an update by a {@link
 * ResumableOptimizer} at the rate of an {@link LrSchedule}), and tells its {@link
 * TrainingListener}s. Progress, checkpoints and the metrics CSV are listeners; add your own with
 * {@link TrainingConfig.BaseBuilder#optListener}.
 *
 * <pre>{@code
 * Seeds.initialize(model, manager, 42, DataType.FLOAT32, new Shape(1, 3, 300, 300));
 * try (DetectionTrainer trainer = DetectionTrainer.builder()
 *     .setModel(model)
 *     .optOptimizer(ResumableSgd.builder().build())
 *     .optSchedule(LrSchedule.builder().setBaseLr(0.02).optWarmup(100, 0.001)
 *         .optMultiStep(0.1, 8, 11).build())
 *     .optEpochs(12).optBatchSize(8).optSeed(42)
 *     .optCheckpointDir(Path.of("runs/ckpt")).optResume(true)
 *     .optOutputDir(Path.of("runs"))            // metrics.csv
 *     .optEvaluator((m, epoch) -> Map.of("mAP@0.5", evaluate(m)))
 *     .build()) {
 *   trainer.fit(trainingData);
 * }
 * }</pre>
 *
 * <h2>Reproducibility and resume</h2>
 *
 * The trainer's {@link Random}, seeded with the run's seed, shuffles the samples each epoch and is
 * handed to {@link TrainingData#batch} for augmentation; before every step the engine's generator
 * is re-seeded from the seed and the global step ({@link Seeds#engineSeed}). With the model
 * initialised by {@link Seeds#initialize} from the same seed, two runs give the same loss at every
 * step on the CPU, with or without prefetching ({@link Builder#optPrefetch}). After each epoch a
 * {@link Checkpoint} holds the parameters, the optimizer state, the generator's state, the history,
 * the run's id and the hash of its settings; with {@code optResume(true)} a new trainer continues
 * from the newest intact one (a damaged one is reported and skipped) and ends with exactly the
 * parameters of an uninterrupted run. A run killed in the middle of an epoch redoes that epoch.
 * Randomness a model keeps in its own Java generators is outside the trainer's reach.
 *
 * <h2>Memory and devices</h2>
 *
 * Every array of a step, its batch included, lives in a sub-manager closed at the end of the step;
 * only parameters and optimizer state persist. While a step runs, a background thread loads the
 * next batch ({@link Builder#optPrefetch}); it ends with the epoch, or when a step fails. By
 * default the trainer uses {@code Engine.getInstance().getDevices()}; the model must be initialized
 * on the first. With several devices each batch is split among them and the gradients are summed on
 * the first ; batch-norm statistics are then those of the first device's slice.
 *
 * <p>Not thread-safe; DJL allows one gradient collector at a time per process, so run one trainer
 * at a time.
 */
public final class DetectionTrainer implements AutoCloseable {

  private final DetectionModel model;
  private final TrainingConfig config;
  private final Device[] devices;
  private final NDManager manager;
  private final GradientStep gradientStep;
  private final ProgressReporter progress;
  private final CheckpointListener checkpoints;
  private final int prefetch;
  private final List<TrainingListener> listeners = new ArrayList<>();
  private String runId = UUID.randomUUID().toString();
  private Random random;
  private TrainingHistory history = new TrainingHistory();
  private int nextEpoch;
  private long globalStep;
  private boolean begun;
  private boolean restored;

  private DetectionTrainer(Builder b) {
    ConvolutionCheck.ensureCorrect();
    this.model = b.model;
    this.prefetch = b.prefetch;
    if (b.mallocTuning || MallocTuning.requestedByProperty()) {
      MallocTuning.apply();
    }
    this.config = new TrainingConfig(b);
    Device[] chosen = config.devices();
    this.devices = chosen != null ? chosen : Engine.getInstance().getDevices();
    this.random = new Random(config.seed());
    List<Pair<String, Parameter>> trainable = GradientStep.trainable(model, devices[0]);
    this.manager = NDManager.newBaseManager(devices[0]);
    config.optimizer().setManager(manager);
    DataParallel parallel = new DataParallel(manager, devices);
    this.gradientStep =
        new GradientStep(model, trainable, config.optimizer(), parallel, config, this::message);
    this.progress = new ProgressReporter(config.progressOut(), config.progressMode());
    this.checkpoints = config.checkpointDir() == null ? null : new CheckpointListener(config);
    if (checkpoints != null) {
      listeners.add(checkpoints);
    }
    listeners.add(progress);
    if (config.outputDir() != null) {
      listeners.add(new MetricsCsvListener(config.outputDir()));
    }
    listeners.addAll(config.listeners());
  }

  /** {@return a builder} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the model being trained} */
  public DetectionModel getModel() {
    return model;
  }

  /** {@return the trainer's settings} */
  public TrainingConfig getConfig() {
    return config;
  }

  /** {@return the optimizer} */
  public ResumableOptimizer getOptimizer() {
    return config.optimizer();
  }

  /**
   * {@return the id of the run: new for a run that starts from scratch, the checkpoint's for a
   * resumed one}
   */
  public String getRunId() {
    return runId;
  }

  /**
   * Returns the 0-based epoch the next call to {@link #fit} starts with.
   *
   * @return the number of finished epochs
   */
  public int getNextEpoch() {
    return nextEpoch;
  }

  /** {@return the number of optimizer steps done so far (across resumes)} */
  public long getGlobalStep() {
    return globalStep;
  }

  /**
   * Returns how many steps were skipped because their gradients were not finite (see {@link
   * TrainingConfig.BaseBuilder#optSkipNonFiniteGradients}).
   *
   * @return the count since this trainer was built
   */
  public long getSkippedSteps() {
    return gradientStep.skippedSteps();
  }

  /** {@return the per-epoch history so far} */
  public TrainingHistory getHistory() {
    return history;
  }

  /** {@return the devices the trainer uses; the first holds the parameters} */
  public Device[] getDevices() {
    return devices.clone();
  }

  /**
   * Returns the number of steps in an epoch over {@code dataSize} samples.
   *
   * @param dataSize the number of samples
   * @return {@code floor} (drop-last) or {@code ceil} of {@code dataSize / batchSize}
   */
  public int stepsPerEpoch(int dataSize) {
    int batchSize = config.batchSize();
    return config.dropLast() ? dataSize / batchSize : (dataSize + batchSize - 1) / batchSize;
  }

  /**
   * Loads the newest intact checkpoint of the checkpoint folder, if there is one; damaged newer
   * ones are reported, renamed to {@code *.damaged} and skipped.
   *
   * @return {@code true} if a checkpoint was loaded
   * @throws IOException if reading fails
   * @throws IllegalStateException if no checkpoint folder is set, or the folder holds checkpoints
   *     but none is intact
   * @throws IllegalArgumentException if the checkpoint was written with other settings
   */
  public boolean resumeFromLatest() throws IOException {
    if (checkpoints == null) {
      throw new IllegalStateException("no checkpoint folder set (optCheckpointDir)");
    }
    return checkpoints.resumeFromLatest(this);
  }

  /**
   * Loads a checkpoint: parameters, optimizer state, epoch, step count, generator state, history
   * and run id.
   *
   * @param file the checkpoint file
   * @throws IOException if reading fails
   * @throws CorruptCheckpointException if the file is not an intact checkpoint
   * @throws IllegalArgumentException if the checkpoint does not fit the model, or was written with
   *     other settings (the run would not continue as it started)
   */
  public void loadCheckpoint(Path file) throws IOException {
    CheckpointListener.load(this, file);
  }

  NDManager manager() {
    return manager;
  }

  void restore(Checkpoint.Restored r) {
    runId = r.header().runId();
    random = r.random();
    history = r.history();
    nextEpoch = r.header().epochsDone();
    globalStep = r.header().globalStep();
    restored = true;
  }

  boolean isRestored() {
    return restored;
  }

  Random random() {
    return random;
  }

  void message(String message) {
    for (TrainingListener l : listeners) {
      l.onMessage(this, message);
    }
  }

  /**
   * Trains from the current epoch up to the configured number of epochs. The first call tells the
   * listeners that training begins: with resume on, the newest intact checkpoint is loaded; without
   * it, a checkpoint folder holding another run's checkpoints is refused.
   *
   * @param data the training samples
   * @return the history of the whole run
   * @throws IOException if writing a checkpoint or the metrics fails
   * @throws NonFiniteLossException if a loss becomes NaN or infinite
   * @throws IllegalArgumentException if the data is empty or a batch is malformed
   * @throws IllegalStateException if the checkpoint folder belongs to another run
   */
  public TrainingHistory fit(TrainingData data) throws IOException {
    Objects.requireNonNull(data, "data");
    int n = data.size();
    int steps = stepsPerEpoch(n);
    if (steps < 1) {
      throw new IllegalArgumentException(
          "data has " + n + " samples, fewer than one batch of " + config.batchSize());
    }
    // PyTorch records on every thread it has not seen before; outside the step's gradient
    // collector nothing may record (the optimizer updates parameters in place)
    try (Autograd.NoGradient off = Autograd.noGradient()) {
      if (!begun) {
        begun = true;
        for (TrainingListener l : listeners) {
          l.onTrainingBegin(this);
        }
      }
      for (int epoch = nextEpoch; epoch < config.epochs(); epoch++) {
        trainEpoch(data, epoch, steps);
      }
    }
    return history;
  }

  private void trainEpoch(TrainingData data, int epoch, int steps) throws IOException {
    int n = data.size();
    int[] order = Seeds.shuffledOrder(n, random);
    int[][] batches = new int[steps][];
    for (int b = 0; b < steps; b++) {
      int from = b * config.batchSize();
      batches[b] = Arrays.copyOfRange(order, from, Math.min(n, from + config.batchSize()));
    }
    for (TrainingListener l : listeners) {
      l.onEpochBegin(this, epoch, steps);
    }
    Map<String, Double> sums = new LinkedHashMap<>();
    long start = System.nanoTime();
    double lr = 0;
    try (BatchLoader loader = new BatchLoader(data, manager, batches, random, prefetch)) {
      for (int b = 0; b < steps; b++) {
        lr = config.schedule().learningRate(globalStep, steps);
        Map<String, Double> values = trainStep(loader, epoch, b, lr);
        globalStep++;
        Map<String, Double> means = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : values.entrySet()) {
          double s = sums.merge(e.getKey(), e.getValue(), Double::sum);
          means.put(e.getKey(), s / (b + 1));
        }
        TrainingListener.Step step =
            new TrainingListener.Step(
                epoch, b, steps, globalStep, lr, values, means, (System.nanoTime() - start) / 1e9);
        for (TrainingListener l : listeners) {
          l.onStep(this, step);
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Map<String, Double> meanLosses = new LinkedHashMap<>();
    for (Map.Entry<String, Double> e : sums.entrySet()) {
      meanLosses.put(e.getKey(), e.getValue() / steps);
    }
    EpochEvaluator evaluator = config.evaluator();
    Map<String, Double> metrics = evaluator == null ? Map.of() : evaluator.evaluate(model, epoch);
    TrainingHistory.Epoch record =
        new TrainingHistory.Epoch(epoch, globalStep, lr, seconds, meanLosses, metrics);
    history.add(record);
    nextEpoch = epoch + 1;
    for (TrainingListener l : listeners) {
      l.onEpochEnd(this, record);
    }
  }

  private Map<String, Double> trainStep(BatchLoader loader, int epoch, int b, double lr) {
    if (config.reseedEngine()) {
      // before a load on this thread too: without prefetching, the order is as it always was
      Engine.getInstance().setRandomSeed(Seeds.engineSeed(config.seed(), globalStep));
    }
    BatchLoader.Loaded loaded = loader.next();
    try (NDManager step = loaded.manager()) {
      return gradientStep.run(step, loaded.batch(), lr, epoch, b);
    }
  }

  /** Closes the trainer's manager (optimizer state included); the model stays usable. */
  @Override
  public void close() {
    config.optimizer().clearState();
    manager.close();
  }

  /** Builds a {@link DetectionTrainer}: the model is required, everything else optional. */
  public static final class Builder extends TrainingConfig.BaseBuilder<Builder> {
    private DetectionModel model;
    private int prefetch = 1;
    private boolean mallocTuning;

    private Builder() {}

    @Override
    protected Builder self() {
      return this;
    }

    /**
     * Sets the model (required, initialized on the first device).
     *
     * @param model the model
     * @return this builder
     */
    public Builder setModel(DetectionModel model) {
      this.model = model;
      return this;
    }

    /**
     * Sets how many batches a background thread may load ahead of the training step: it decodes,
     * augments and stacks the next batches while the current step runs. The batches, their order
     * and every augmentation draw are the same as without it, so a seeded run's losses do not
     * change; the {@link TrainingData} must then draw its randomness only from the generator it is
     * given, and be callable from that thread (one call at a time). Each waiting batch holds its
     * arrays in native memory.
     *
     * @param batches 0 to load each batch on the trainer's thread when it is needed; default 1
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder optPrefetch(int batches) {
      if (batches < 0) {
        throw new IllegalArgumentException("prefetch must be >= 0, got " + batches);
      }
      this.prefetch = batches;
      return this;
    }

    /**
     * Tunes glibc's allocator for training when the trainer is built (see {@link MallocTuning}):
     * large buffers freed by one step stay with the process for the next instead of going back to
     * the kernel and being faulted in again. Also switched on by the system property {@code
     * jdetect.mallopt=on}. Without glibc nothing changes.
     *
     * @param tune default false
     * @return this builder
     */
    public Builder optMallocTuning(boolean tune) {
      this.mallocTuning = tune;
      return this;
    }

    /**
     * Builds the trainer.
     *
     * @return the trainer
     * @throws IllegalArgumentException if no model is set, or its parameters are not initialized on
     *     the first device
     */
    public DetectionTrainer build() {
      if (model == null) {
        throw new IllegalArgumentException("model must be set");
      }
      return new DetectionTrainer(this);
    }
  }
}
