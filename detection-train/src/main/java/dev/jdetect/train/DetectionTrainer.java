package dev.jdetect.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.optim.Optimizer;
import dev.jdetect.train.optim.Sgd;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Trains any {@link DetectionModel} with its own loop: per step it loads a batch, runs the model's
 * training forward pass ({@code forward(parameterStore, images, targets, null)}, which returns
 * named scalar losses), back-propagates their weighted sum, optionally clips the gradients by their
 * global norm, and updates the parameters with a jdetect {@link Optimizer} at the rate of an {@link
 * LrSchedule}.
 *
 * <pre>{@code
 * try (DetectionTrainer trainer = DetectionTrainer.builder()
 *     .setModel(model)                          // initialized
 *     .setOptimizer(Sgd.builder().build())
 *     .setSchedule(LrSchedule.builder().setBaseLr(0.02).setWarmup(100, 0.001)
 *         .setMultiStep(0.1, 8, 11).build())
 *     .setEpochs(12).setBatchSize(8).setSeed(42)
 *     .setCheckpointDir(Path.of("runs/ckpt")).setResume(true)
 *     .setOutputDir(Path.of("runs"))            // metrics.csv and metrics.png
 *     .setEvaluator((m, epoch) -> Map.of("mAP@0.5", evaluate(m)))
 *     .build()) {
 *   trainer.fit(trainingData);
 * }
 * }</pre>
 *
 * <h2>Reproducibility and resume</h2>
 *
 * The trainer owns a {@link Random} seeded with {@link Builder#setSeed}; it shuffles the sample
 * order each epoch and is handed to {@link TrainingData#batch} for augmentation. Before every step
 * it also re-seeds the engine's generator ({@link Engine#setRandomSeed}) from the seed and the
 * global step, so that randomness inside the model that draws from the engine (dropout, random
 * sampling done with engine ops) depends only on the step. After each epoch a {@link Checkpoint}
 * holds the parameters, the optimizer state, the epoch, the step count, the generator's state and
 * the history. A new trainer built with the same settings and {@link Builder#setResume(boolean)}
 * continues from the latest checkpoint with the same schedule and, on the same machine and engine,
 * ends with exactly the parameters of an uninterrupted run. A run killed in the middle of an epoch
 * redoes that epoch from its start. Randomness a model keeps in its own Java generators is outside
 * the trainer's reach and is not restored.
 *
 * <h2>Memory</h2>
 *
 * Every array of a step (batch, activations, losses, gradients' handles, optimizer temporaries)
 * lives in a sub-manager closed at the end of the step; only parameters and optimizer state
 * persist.
 *
 * <h2>Devices</h2>
 *
 * By default the trainer uses {@code Engine.getInstance().getDevices()}: every GPU DJL sees, else
 * the CPU. The model must have been initialized on the first of these devices. With more than one
 * device each batch is split along its first axis into one slice per device (sizes differ by at
 * most one); each slice runs forward and backward on a mirror of the parameters on its device, the
 * gradients are summed on the first device (each slice's loss is weighted by its share of the
 * batch, so the sum equals the gradient of the batch mean), the optimizer updates the first
 * device's parameters and the values are copied back to the mirrors. Batch-norm statistics are then
 * those of the first device's slice. This path could only be tested with one device here.
 *
 * <p>Not thread-safe; DJL allows one gradient collector at a time per process, so run one trainer
 * at a time.
 */
public final class DetectionTrainer implements AutoCloseable {

  private final DetectionModel model;
  private final Optimizer optimizer;
  private final LrSchedule schedule;
  private final int epochs;
  private final int batchSize;
  private final boolean dropLast;
  private final long seed;
  private final Map<String, Float> lossWeights;
  private final double clipNorm;
  private final Path checkpointDir;
  private final int keepCheckpoints;
  private final boolean resume;
  private final Path outputDir;
  private final EpochEvaluator evaluator;
  private final ProgressReporter progress;
  private final Device[] devices;
  private final boolean reseedEngine;
  private final int maxSkippedSteps;

  private final NDManager manager;
  private final ParameterStore parameterStore;
  private final List<Pair<String, Parameter>> trainable;
  private Random random;
  private TrainingHistory history = new TrainingHistory();
  private int nextEpoch;
  private long globalStep;
  private boolean resumeChecked;
  private int skippedInARow;
  private long skippedSteps;

  private DetectionTrainer(Builder b) {
    ConvolutionCheck.ensureCorrect();
    this.model = b.model;
    this.optimizer = b.optimizer != null ? b.optimizer : Sgd.builder().build();
    this.schedule = b.schedule != null ? b.schedule : LrSchedule.constant(0.01);
    this.epochs = b.epochs;
    this.batchSize = b.batchSize;
    this.dropLast = b.dropLast;
    this.seed = b.seed;
    this.lossWeights = Collections.unmodifiableMap(new LinkedHashMap<>(b.lossWeights));
    this.clipNorm = b.clipNorm;
    this.checkpointDir = b.checkpointDir;
    this.keepCheckpoints = b.keepCheckpoints;
    this.resume = b.resume;
    this.outputDir = b.outputDir;
    this.evaluator = b.evaluator;
    this.progress = new ProgressReporter(b.progressOut, b.progressMode);
    this.devices = b.devices != null ? b.devices.clone() : Engine.getInstance().getDevices();
    this.reseedEngine = b.reseedEngine;
    this.maxSkippedSteps = b.maxSkippedSteps;
    this.random = new Random(seed);

    trainable = new ArrayList<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      Parameter param = p.getValue();
      if (!param.isInitialized()) {
        throw new IllegalArgumentException(
            "model parameter '"
                + p.getKey()
                + "' is not initialized: call model.initialize(manager, DataType.FLOAT32, "
                + "new Shape(1, 3, H, W)) on a manager of device "
                + devices[0]
                + " first");
      }
      if (!param.getArray().getDevice().equals(devices[0])) {
        throw new IllegalArgumentException(
            "model parameter '"
                + p.getKey()
                + "' is on "
                + param.getArray().getDevice()
                + " but the trainer's first device is "
                + devices[0]);
      }
      if (param.requiresGradient()) {
        trainable.add(p);
      }
    }
    this.manager = NDManager.newBaseManager(devices[0]);
    optimizer.setManager(manager);
    parameterStore = new ParameterStore(manager, false);
    if (devices.length > 1) {
      parameterStore.setParameterServer(new MirrorOnlyServer(), devices);
    }
  }

  /**
   * Returns a builder.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the model being trained.
   *
   * @return the model
   */
  public DetectionModel getModel() {
    return model;
  }

  /**
   * Returns the optimizer.
   *
   * @return the optimizer
   */
  public Optimizer getOptimizer() {
    return optimizer;
  }

  /**
   * Returns the 0-based epoch the next call to {@link #fit} starts with.
   *
   * @return the number of finished epochs
   */
  public int getNextEpoch() {
    return nextEpoch;
  }

  /**
   * Returns the number of optimizer steps done so far (across resumes).
   *
   * @return the global step
   */
  public long getGlobalStep() {
    return globalStep;
  }

  /**
   * Returns how many steps were skipped because their gradients were not finite (see {@link
   * Builder#setSkipNonFiniteGradients}).
   *
   * @return the count since this trainer was built
   */
  public long getSkippedSteps() {
    return skippedSteps;
  }

  /**
   * Returns the per-epoch history so far.
   *
   * @return the history
   */
  public TrainingHistory getHistory() {
    return history;
  }

  /**
   * Returns the devices the trainer uses; the first holds the parameters.
   *
   * @return a copy of the device list
   */
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
    return dropLast ? dataSize / batchSize : (dataSize + batchSize - 1) / batchSize;
  }

  /**
   * Loads the newest checkpoint of the checkpoint folder, if there is one.
   *
   * @return {@code true} if a checkpoint was loaded
   * @throws IOException if reading fails
   * @throws IllegalStateException if no checkpoint folder is set
   */
  public boolean resumeFromLatest() throws IOException {
    if (checkpointDir == null) {
      throw new IllegalStateException("no checkpoint folder set (Builder.setCheckpointDir)");
    }
    resumeChecked = true;
    Path latest = Checkpoint.latest(checkpointDir);
    if (latest == null) {
      return false;
    }
    loadCheckpoint(latest);
    return true;
  }

  /**
   * Loads a checkpoint: parameters, optimizer state, epoch, step count, generator state and
   * history.
   *
   * @param file the checkpoint file
   * @throws IOException if reading fails
   * @throws IllegalArgumentException if the checkpoint does not fit the model, or was written with
   *     another seed or batch size (the schedule would not continue as it started)
   */
  public void loadCheckpoint(Path file) throws IOException {
    Checkpoint ckpt = Checkpoint.read(file, model, optimizer, manager);
    if (ckpt.getSeed() != seed || ckpt.getBatchSize() != batchSize) {
      throw new IllegalArgumentException(
          file
              + " was written with seed "
              + ckpt.getSeed()
              + " and batch size "
              + ckpt.getBatchSize()
              + ", but this trainer has seed "
              + seed
              + " and batch size "
              + batchSize);
    }
    random = ckpt.getRandom();
    history = ckpt.getHistory();
    nextEpoch = ckpt.getEpochsDone();
    globalStep = ckpt.getGlobalStep();
    resumeChecked = true;
    progress.message(
        "resumed from " + file + " (epoch " + nextEpoch + " done, step " + globalStep + ")");
  }

  /**
   * Trains from the current epoch up to the configured number of epochs. If resume is on and
   * nothing was trained or loaded yet, first loads the latest checkpoint.
   *
   * @param data the training samples
   * @return the history of the whole run
   * @throws IOException if writing a checkpoint or the metrics fails
   * @throws NonFiniteLossException if a loss becomes NaN or infinite
   * @throws IllegalArgumentException if the data is empty or a batch is malformed
   */
  public TrainingHistory fit(TrainingData data) throws IOException {
    Objects.requireNonNull(data, "data");
    int n = data.size();
    int steps = stepsPerEpoch(n);
    if (steps < 1) {
      throw new IllegalArgumentException(
          "data has " + n + " samples, fewer than one batch of " + batchSize);
    }
    if (resume && !resumeChecked && checkpointDir != null) {
      resumeFromLatest();
    }
    resumeChecked = true;
    for (int epoch = nextEpoch; epoch < epochs; epoch++) {
      int[] order = shuffle(n);
      progress.startEpoch(epoch, epochs, steps);
      Map<String, Double> sums = new LinkedHashMap<>();
      long start = System.nanoTime();
      double lr = 0;
      for (int b = 0; b < steps; b++) {
        int from = b * batchSize;
        int[] indices = Arrays.copyOfRange(order, from, Math.min(n, from + batchSize));
        lr = schedule.learningRate(globalStep, steps);
        Map<String, Double> values = trainStep(data, indices, epoch, b, lr);
        globalStep++;
        Map<String, Double> means = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : values.entrySet()) {
          double s = sums.merge(e.getKey(), e.getValue(), Double::sum);
          means.put(e.getKey(), s / (b + 1));
        }
        progress.step(b + 1, means, lr, (System.nanoTime() - start) / 1e9);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, Double> meanLosses = new LinkedHashMap<>();
      for (Map.Entry<String, Double> e : sums.entrySet()) {
        meanLosses.put(e.getKey(), e.getValue() / steps);
      }
      Map<String, Double> metrics = evaluator == null ? Map.of() : evaluator.evaluate(model, epoch);
      TrainingHistory.Epoch record =
          new TrainingHistory.Epoch(epoch, globalStep, lr, seconds, meanLosses, metrics);
      history.add(record);
      nextEpoch = epoch + 1;
      if (checkpointDir != null) {
        saveCheckpoint();
      }
      if (outputDir != null) {
        Files.createDirectories(outputDir);
        history.writeCsv(outputDir.resolve("metrics.csv"));
        MetricsPlot.write(history, outputDir.resolve("metrics.png"));
      }
      progress.endEpoch(record);
    }
    return history;
  }

  private void saveCheckpoint() throws IOException {
    Files.createDirectories(checkpointDir);
    Path file = checkpointDir.resolve(Checkpoint.fileName(nextEpoch));
    Checkpoint.write(
        file, nextEpoch, globalStep, seed, batchSize, random, history, model, optimizer);
    List<Path> all = Checkpoint.list(checkpointDir);
    for (int i = 0; i < all.size() - keepCheckpoints; i++) {
      Files.deleteIfExists(all.get(i));
    }
  }

  private int[] shuffle(int n) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  private Map<String, Double> trainStep(
      TrainingData data, int[] indices, int epoch, int batchIndex, double lr) {
    try (NDManager step = manager.newSubManager()) {
      if (reseedEngine) {
        Engine.getInstance()
            .setRandomSeed(
                new SplittableRandom(seed ^ (globalStep * 0x9E3779B97F4A7C15L)).nextInt()
                    & 0x7fffffff);
      }
      TrainingBatch batch = data.batch(step, indices, random);
      if (batch.size() != indices.length) {
        throw new IllegalArgumentException(
            "TrainingData returned " + batch.size() + " images for " + indices.length + " indices");
      }
      List<NDArray[]> slices = split(step, batch);
      String[] declared = model.lossNames();
      Map<String, Double> values = new LinkedHashMap<>();
      values.put("loss", 0.0);
      NDArray[] totals = new NDArray[slices.size()];
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        for (int s = 0; s < slices.size(); s++) {
          NDArray[] slice = slices.get(s);
          double share = (double) slice[0].getShape().get(0) / batch.size();
          NDList losses =
              model.forward(
                  parameterStore, new NDList(slice[0]), new NDList(slice[1], slice[2]), null);
          NDArray total = null;
          for (int i = 0; i < losses.size(); i++) {
            NDArray loss = losses.get(i);
            loss.attach(step);
            String name = loss.getName();
            if (name == null || name.isEmpty()) {
              name = i < declared.length ? declared[i] : "loss_" + i;
            }
            if (loss.size() != 1) {
              throw new IllegalArgumentException(
                  "model returned loss '"
                      + name
                      + "' of shape "
                      + loss.getShape()
                      + "; losses must be scalars");
            }
            float value = loss.toType(DataType.FLOAT32, false).getFloat();
            if (!Float.isFinite(value)) {
              throw new NonFiniteLossException(epoch, batchIndex, name, value);
            }
            float weight = lossWeights.getOrDefault(name, 1f);
            values.merge(name, (double) value * share, Double::sum);
            NDArray weighted = weight == 1f ? loss : Scalars.mul(loss, weight);
            total = total == null ? weighted : total.add(weighted);
          }
          if (total == null) {
            throw new IllegalArgumentException("model returned no losses");
          }
          float totalValue = total.toType(DataType.FLOAT32, false).getFloat();
          if (!Float.isFinite(totalValue)) {
            throw new NonFiniteLossException(epoch, batchIndex, "loss", totalValue);
          }
          values.merge("loss", (double) totalValue * share, Double::sum);
          totals[s] = slices.size() == 1 ? total : Scalars.mul(total, (float) share);
        }
        for (NDArray t : totals) {
          collector.backward(t);
        }
      }
      update(step, lr, epoch, batchIndex);
      return values;
    }
  }

  private List<NDArray[]> split(NDManager step, TrainingBatch batch) {
    NDArray images = batch.getImages();
    NDArray boxes = batch.getTargets().get(0);
    NDArray classes = batch.getTargets().get(1);
    if (devices.length == 1) {
      return Collections.singletonList(
          new NDArray[] {
            images.toDevice(devices[0], false),
            boxes.toDevice(devices[0], false),
            classes.toDevice(devices[0], false)
          });
    }
    int b = batch.size();
    int parts = Math.min(devices.length, b);
    List<NDArray[]> out = new ArrayList<>(parts);
    int from = 0;
    for (int d = 0; d < parts; d++) {
      int len = b / parts + (d < b % parts ? 1 : 0);
      String range = from + ":" + (from + len);
      out.add(
          new NDArray[] {
            images.get(range).toDevice(devices[d], false),
            boxes.get(range).toDevice(devices[d], false),
            classes.get(range).toDevice(devices[d], false)
          });
      from += len;
    }
    return out;
  }

  private void update(NDManager step, double lr, int epoch, int batchIndex) {
    int n = trainable.size();
    NDArray[] grads = new NDArray[n];
    List<NDArray> raw = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Parameter p = trainable.get(i).getValue();
      NDArray weight = p.getArray();
      if (!weight.hasGradient()) {
        continue;
      }
      NDArray g = weight.getGradient();
      g.attach(step);
      raw.add(g);
      if (devices.length > 1) {
        for (int d = 1; d < devices.length; d++) {
          NDArray mirror = parameterStore.getValue(p, devices[d], true);
          if (mirror != weight && mirror.hasGradient()) {
            NDArray gd = mirror.getGradient();
            gd.attach(step);
            raw.add(gd);
            g = g.add(gd.toDevice(weight.getDevice(), false));
          }
        }
      }
      grads[i] = g;
    }
    NDArray sumSq = null;
    for (NDArray g : grads) {
      if (g != null) {
        NDArray s = g.toType(DataType.FLOAT64, false).square().sum();
        sumSq = sumSq == null ? s : sumSq.add(s);
      }
    }
    double norm = sumSq == null ? 0 : Math.sqrt(sumSq.getDouble());
    if (!Double.isFinite(norm)) {
      String culprit = null;
      for (int i = 0; i < n && culprit == null; i++) {
        if (grads[i] != null && !Float.isFinite(grads[i].abs().max().getFloat())) {
          culprit = trainable.get(i).getKey();
        }
      }
      // leave no NaN behind in the accumulated gradients: write zeros into them. (Not with
      // copyTo/set(Buffer): on CPU that makes the tensor alias a Java buffer that dies with the
      // wrapper closed at the end of the step.)
      for (NDArray g : raw) {
        g.set(new NDIndex(":"), 0f);
      }
      String detail =
          culprit == null ? null : "first non-finite gradient: parameter '" + culprit + "'";
      if (skippedInARow < maxSkippedSteps) {
        skippedInARow++;
        skippedSteps++;
        progress.message(
            "epoch "
                + epoch
                + ", batch "
                + batchIndex
                + ": gradient norm is "
                + norm
                + (detail == null ? "" : " (" + detail + ")")
                + "; step skipped ("
                + skippedInARow
                + " in a row, at most "
                + maxSkippedSteps
                + ")");
        return;
      }
      throw new NonFiniteLossException(epoch, batchIndex, "gradient_norm", (float) norm, detail);
    }
    skippedInARow = 0;
    if (clipNorm > 0) {
      double coef = clipNorm / (norm + 1e-6);
      if (coef < 1) {
        for (int i = 0; i < n; i++) {
          if (grads[i] != null) {
            grads[i] = Scalars.mul(grads[i], (float) coef);
          }
        }
      }
    }
    for (int i = 0; i < n; i++) {
      if (grads[i] != null) {
        optimizer.update(
            trainable.get(i).getKey(), trainable.get(i).getValue().getArray(), grads[i], lr);
      }
    }
    for (NDArray g : raw) {
      g.subi(g);
    }
    if (devices.length > 1) {
      for (Pair<String, Parameter> p : model.getParameters()) {
        NDArray weight = p.getValue().getArray();
        for (int d = 1; d < devices.length; d++) {
          NDArray mirror = parameterStore.getValue(p.getValue(), devices[d], true);
          if (mirror != weight) {
            weight.copyTo(mirror);
          }
        }
      }
    }
  }

  /** Closes the trainer's manager (optimizer state included); the model stays usable. */
  @Override
  public void close() {
    optimizer.clearState();
    manager.close();
  }

  /** Lets the parameter store create one mirror per device; updates are done by the trainer. */
  private static final class MirrorOnlyServer implements ParameterServer {
    @Override
    public void init(String parameterId, NDArray[] value) {}

    @Override
    public void update(String parameterId, NDArray[] grads, NDArray[] params) {}

    @Override
    public void close() {}
  }

  /** Builds a {@link DetectionTrainer}. */
  public static final class Builder {
    private DetectionModel model;
    private Optimizer optimizer;
    private LrSchedule schedule;
    private int epochs = 1;
    private int batchSize = 8;
    private boolean dropLast;
    private long seed = 42;
    private final Map<String, Float> lossWeights = new LinkedHashMap<>();
    private double clipNorm;
    private Path checkpointDir;
    private int keepCheckpoints = 2;
    private boolean resume;
    private Path outputDir;
    private EpochEvaluator evaluator;
    private PrintStream progressOut = System.out;
    private ProgressReporter.Mode progressMode = ProgressReporter.Mode.AUTO;
    private Device[] devices;
    private boolean reseedEngine = true;
    private int maxSkippedSteps;

    private Builder() {}

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
     * Sets the optimizer (default {@link Sgd} with momentum 0.9 and weight decay 1e-4).
     *
     * @param optimizer the optimizer
     * @return this builder
     */
    public Builder setOptimizer(Optimizer optimizer) {
      this.optimizer = optimizer;
      return this;
    }

    /**
     * Sets the learning-rate schedule (default constant 0.01).
     *
     * @param schedule the schedule
     * @return this builder
     */
    public Builder setSchedule(LrSchedule schedule) {
      this.schedule = schedule;
      return this;
    }

    /**
     * Sets the total number of epochs of the run (a resumed run counts the epochs already done).
     *
     * @param epochs positive, default 1
     * @return this builder
     */
    public Builder setEpochs(int epochs) {
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
      }
      this.epochs = epochs;
      return this;
    }

    /**
     * Sets the batch size.
     *
     * @param batchSize positive, default 8
     * @return this builder
     */
    public Builder setBatchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * Drops the last, incomplete batch of each epoch.
     *
     * @param dropLast default false
     * @return this builder
     */
    public Builder setDropLast(boolean dropLast) {
      this.dropLast = dropLast;
      return this;
    }

    /**
     * Sets the seed of the trainer's generator (shuffling, augmentation, engine re-seeding).
     *
     * @param seed default 42
     * @return this builder
     */
    public Builder setSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets the weight of a named loss in the total (default 1 for every loss).
     *
     * @param lossName e.g. {@code "loss_box_reg"}
     * @param weight finite, non-negative
     * @return this builder
     */
    public Builder setLossWeight(String lossName, float weight) {
      if (!(weight >= 0f) || Float.isInfinite(weight)) {
        throw new IllegalArgumentException(
            "weight of '" + lossName + "' must be finite and >= 0, got " + weight);
      }
      lossWeights.put(lossName, weight);
      return this;
    }

    /**
     * Clips the gradients so that their global L2 norm is at most {@code maxNorm} ({@code
     * torch.nn.utils.clip_grad_norm_}).
     *
     * @param maxNorm positive, or 0 to disable (default)
     * @return this builder
     */
    public Builder setGradientClipNorm(double maxNorm) {
      if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
        throw new IllegalArgumentException("maxNorm must be finite and >= 0, got " + maxNorm);
      }
      this.clipNorm = maxNorm;
      return this;
    }

    /**
     * Writes a checkpoint into this folder after every epoch.
     *
     * @param dir the folder (created when needed), or {@code null} for no checkpoints (default)
     * @return this builder
     */
    public Builder setCheckpointDir(Path dir) {
      this.checkpointDir = dir;
      return this;
    }

    /**
     * Sets how many checkpoints to keep; older ones are deleted.
     *
     * @param keep positive, default 2
     * @return this builder
     */
    public Builder setKeepCheckpoints(int keep) {
      if (keep < 1) {
        throw new IllegalArgumentException("keep must be >= 1, got " + keep);
      }
      this.keepCheckpoints = keep;
      return this;
    }

    /**
     * Makes {@link DetectionTrainer#fit} resume from the latest checkpoint of the checkpoint
     * folder, if there is one.
     *
     * @param resume default false
     * @return this builder
     */
    public Builder setResume(boolean resume) {
      this.resume = resume;
      return this;
    }

    /**
     * Writes {@code metrics.csv} and {@code metrics.png} into this folder after every epoch.
     *
     * @param dir the folder, or {@code null} for none (default)
     * @return this builder
     */
    public Builder setOutputDir(Path dir) {
      this.outputDir = dir;
      return this;
    }

    /**
     * Sets the end-of-epoch evaluation.
     *
     * @param evaluator the evaluator, or {@code null} for none (default)
     * @return this builder
     */
    public Builder setEvaluator(EpochEvaluator evaluator) {
      this.evaluator = evaluator;
      return this;
    }

    /**
     * Sets where and how progress is printed.
     *
     * @param out the stream (default {@code System.out})
     * @param mode the mode (default {@link ProgressReporter.Mode#AUTO})
     * @return this builder
     */
    public Builder setProgress(PrintStream out, ProgressReporter.Mode mode) {
      this.progressOut = Objects.requireNonNull(out, "out");
      this.progressMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Sets the devices (default {@code Engine.getInstance().getDevices()}).
     *
     * @param devices one or more devices; the first holds the parameters
     * @return this builder
     */
    public Builder setDevices(Device... devices) {
      if (devices == null || devices.length == 0) {
        throw new IllegalArgumentException("devices must not be empty");
      }
      this.devices = devices.clone();
      return this;
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
    public Builder setSkipNonFiniteGradients(int maxInARow) {
      if (maxInARow < 0) {
        throw new IllegalArgumentException("maxInARow must be >= 0, got " + maxInARow);
      }
      this.maxSkippedSteps = maxInARow;
      return this;
    }

    /**
     * Turns the per-step re-seeding of the engine's generator on or off.
     *
     * @param reseed default true
     * @return this builder
     */
    public Builder setReseedEngine(boolean reseed) {
      this.reseedEngine = reseed;
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
