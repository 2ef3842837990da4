package dev.jdetect.train.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.util.Pair;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.data.TrainingData;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.SparkSession;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Data-parallel training on a Spark cluster: a barrier stage starts N workers together (one Spark
 * task each, so the cluster needs N free task slots at once); each builds the model and the data,
 * takes its disjoint, seeded share ({@link ShardedData}) and trains it with a {@link
 * DetectionTrainer}; every K steps, and at the end of every epoch, the workers replace their
 * parameters by the mean over all workers.
 *
 * <p>With K = 1 and plain SGD (no momentum, no weight decay) N workers with batch b take the steps
 * of one process with batch N·b, provided the model's loss is a mean over the images of the batch
 * and images do not interact (no batch norm in training mode: its statistics are per batch).
 * Optimizer state (momentum, Adam's moments) stays per worker; larger K trades agreement for fewer
 * exchanges ("local SGD").
 *
 * <p><b>Cost.</b> Each exchange goes through the driver ({@code BarrierTaskContext.allGather}):
 * every worker sends its P parameters (4·P bytes, Base64-encoded in chunks) and receives all N
 * workers' ones, so the driver relays about N²·4·P bytes per exchange. That suits small and medium
 * models or a large K; the compute per step does not shrink, the data per worker does.
 *
 * <p><b>Checkpoints and resume.</b> Rank 0 alone writes the trainer's checkpoints into {@link
 * Builder#optCheckpointDir} (a folder on rank 0's machine or on shared storage). With {@link
 * Builder#optResume} rank 0 loads the newest intact checkpoint as the single-process trainer does
 * and sends it to the other workers, so every worker continues from the same parameters, epoch,
 * step and generator state. A new run starts every worker from rank 0's initial parameters. Spark
 * reruns a failed barrier stage as a whole; with resume on, the rerun continues from the newest
 * checkpoint.
 *
 * <pre>{@code
 * SparkTrainer.Result r = SparkTrainer.builder()
 *     .setModel(manager -> { Ssd m = SmallModels.ssdSmall(3, 128, 128);
 *         Seeds.initialize(m, manager, 42, DataType.FLOAT32, new Shape(1, 3, 128, 128));
 *         return m; })
 *     .setData(() -> SampleData.builder()...build())
 *     .setTrainer(b -> b.optOptimizer(ResumableSgd.builder().build())
 *         .optSchedule(LrSchedule.constant(0.01)).optEpochs(10).optBatchSize(8).optSeed(42))
 *     .setWorkers(4).optAverageEvery(1)
 *     .optCheckpointDir("/shared/runs/ckpt").optResume(true)
 *     .build()
 *     .fit(spark);
 * }</pre>
 */
public final class SparkTrainer implements Serializable {

  private static final long serialVersionUID = 1L;

  final ModelFactory model;
  final DataFactory data;
  final TrainerSettings trainer;
  final int workers;
  final int averageEvery;
  final long shardSeed;
  final String checkpointDir;
  final boolean resume;

  private SparkTrainer(Builder b) {
    this.model = b.model;
    this.data = b.data;
    this.trainer = b.trainer;
    this.workers = b.workers;
    this.averageEvery = b.averageEvery;
    this.shardSeed = b.shardSeed;
    this.checkpointDir = b.checkpointDir;
    this.resume = b.resume;
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds each worker's model: the same architecture on every worker. */
  @FunctionalInterface
  public interface ModelFactory extends Serializable {
    /**
     * Creates and initialises the model.
     *
     * @param manager the manager of the parameters
     * @return the model
     */
    DetectionModel create(NDManager manager);
  }

  /** Opens the whole training set on a worker (which then takes its share). */
  @FunctionalInterface
  public interface DataFactory extends Serializable {
    /**
     * Opens the data, the same samples in the same order on every worker.
     *
     * @return the data
     */
    TrainingData create();
  }

  /**
   * Sets a worker's trainer up: optimizer, schedule, epochs, batch size per worker, seed. Every
   * worker applies it; an epoch evaluator set here runs on every worker, and only rank 0 reports
   * progress and writes the output folder.
   */
  @FunctionalInterface
  public interface TrainerSettings extends Serializable {
    /**
     * Configures the trainer (the model is already set; checkpoints are set by the {@link
     * SparkTrainer}).
     *
     * @param builder the builder
     */
    void configure(DetectionTrainer.Builder builder);
  }

  /**
   * What rank 0 holds at the end: the common parameters and how far the run went.
   *
   * @param parameters the parameters by name, float32 values in row-major order
   * @param globalStep the optimizer steps done (across resumes)
   * @param epochs the epochs done
   */
  public record Result(Map<String, float[]> parameters, long globalStep, int epochs)
      implements Serializable {

    /**
     * Copies the parameters into a model of the same architecture (e.g. one built on the driver for
     * evaluation or saving).
     *
     * @param model the model, initialised
     * @throws IllegalArgumentException if a parameter is missing or has another size
     */
    public void loadInto(Block model) {
      List<Pair<String, NDArray>> params = ParameterExchange.parameters(model);
      if (params.size() != parameters.size()) {
        throw new IllegalArgumentException(
            "the model has " + params.size() + " parameters, the result " + parameters.size());
      }
      for (Pair<String, NDArray> p : params) {
        float[] values = parameters.get(p.getKey());
        if (values == null || values.length != p.getValue().size()) {
          throw new IllegalArgumentException(
              "parameter '"
                  + p.getKey()
                  + "' of "
                  + p.getValue().getShape()
                  + (values == null
                      ? " is not in the result"
                      : " has " + values.length + " values"));
        }
        ParameterExchange.set(p.getValue(), values);
      }
    }
  }

  /**
   * Runs the training: one Spark job with one barrier stage of N tasks. If a worker fails, the
   * stage fails as a whole and Spark's {@code SparkException} (not declared: Scala's exceptions are
   * unchecked) names the worker's error.
   *
   * @param spark the session
   * @return rank 0's parameters and progress at the end
   */
  public Result fit(SparkSession spark) {
    List<Integer> ranks = IntStream.range(0, workers).boxed().collect(Collectors.toList());
    RDD<Integer> seeds =
        spark.sparkContext().parallelize(scalaSeq(ranks), workers, tag(Integer.class));
    RDD<Result> results =
        seeds.barrier().mapPartitions(new TrainingWorker(this), false, tag(Result.class));
    List<Result> out = JavaRDD.fromRDD(results, tag(Result.class)).collect();
    if (out.size() != 1) {
      throw new IllegalStateException("expected rank 0's result, got " + out.size());
    }
    return out.get(0);
  }

  private static <T> ClassTag<T> tag(Class<T> type) {
    return ClassTag$.MODULE$.apply(type);
  }

  private static scala.collection.immutable.Seq<Integer> scalaSeq(List<Integer> values) {
    return scala.jdk.javaapi.CollectionConverters.asScala(values).toList();
  }

  /** Builder for {@link SparkTrainer}: model, data, trainer settings and workers are required. */
  public static final class Builder {
    private ModelFactory model;
    private DataFactory data;
    private TrainerSettings trainer;
    private int workers;
    private int averageEvery = 1;
    private long shardSeed;
    private String checkpointDir;
    private boolean resume;

    private Builder() {}

    /**
     * Sets how each worker builds and initialises the model. Required.
     *
     * @param model a serializable factory
     * @return this builder
     */
    public Builder setModel(ModelFactory model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /**
     * Sets how each worker opens the whole training set. Required.
     *
     * @param data a serializable factory
     * @return this builder
     */
    public Builder setData(DataFactory data) {
      this.data = Objects.requireNonNull(data, "data");
      return this;
    }

    /**
     * Sets each worker's trainer settings (the batch size is per worker). Required.
     *
     * @param trainer a serializable configuration
     * @return this builder
     */
    public Builder setTrainer(TrainerSettings trainer) {
      this.trainer = Objects.requireNonNull(trainer, "trainer");
      return this;
    }

    /**
     * Sets the number of workers N (Spark tasks started together). Required.
     *
     * @param workers {@code >= 1}
     * @return this builder
     */
    public Builder setWorkers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be >= 1, got " + workers);
      }
      this.workers = workers;
      return this;
    }

    /**
     * Sets K: the parameters are averaged after every K-th step (and at the end of every epoch).
     * Default 1.
     *
     * @param steps {@code >= 1}
     * @return this builder
     */
    public Builder optAverageEvery(int steps) {
      if (steps < 1) {
        throw new IllegalArgumentException("averageEvery must be >= 1, got " + steps);
      }
      this.averageEvery = steps;
      return this;
    }

    /**
     * Sets the seed of the assignment of samples to workers. Default 0.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder optShardSeed(long seed) {
      this.shardSeed = seed;
      return this;
    }

    /**
     * Sets the folder rank 0 writes checkpoints into. Default none.
     *
     * @param dir a path on rank 0's machine (shared storage on a cluster), or {@code null}
     * @return this builder
     */
    public Builder optCheckpointDir(String dir) {
      this.checkpointDir = dir;
      return this;
    }

    /**
     * Sets whether to resume from the newest intact checkpoint of the checkpoint folder. Default
     * false.
     *
     * @param resume whether to resume
     * @return this builder
     */
    public Builder optResume(boolean resume) {
      this.resume = resume;
      return this;
    }

    /**
     * Builds the trainer.
     *
     * @return the trainer
     * @throws IllegalArgumentException if a required setting is missing
     */
    public SparkTrainer build() {
      if (model == null || data == null || trainer == null || workers < 1) {
        throw new IllegalArgumentException("model, data, trainer settings and workers must be set");
      }
      if (resume && checkpointDir == null) {
        throw new IllegalArgumentException("optResume(true) needs optCheckpointDir");
      }
      return new SparkTrainer(this);
    }
  }
}
