package dev.jdetect.train.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.util.Pair;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.Checkpoint;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.ProgressReporter;
import dev.jdetect.train.data.TrainingData;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/** One barrier task of a {@link SparkTrainer}: builds, syncs and trains one worker. */
final class TrainingWorker
    extends AbstractFunction1<Iterator<Integer>, Iterator<SparkTrainer.Result>>
    implements Serializable {

  private static final long serialVersionUID = 1L;

  private final SparkTrainer run;

  TrainingWorker(SparkTrainer run) {
    this.run = run;
  }

  @Override
  public Iterator<SparkTrainer.Result> apply(Iterator<Integer> ignored) {
    BarrierTaskContext context = BarrierTaskContext.get();
    int rank = context.partitionId();
    ParameterExchange exchange = new ParameterExchange(context);
    ParameterAveraging averaging = new ParameterAveraging(exchange, run.averageEvery);
    // the manager loads the engine (the first task of an executor JVM finds it unloaded); a task
    // thread is new to PyTorch, which starts threads recording gradients
    try (NDManager manager = NDManager.newBaseManager();
        Autograd.NoGradient noGradient = Autograd.noGradient()) {
      DetectionModel model = ParameterAveraging.exclusively(() -> run.model.create(manager));
      TrainingData share =
          averaging.guard(new ShardedData(run.data.create(), rank, run.workers, run.shardSeed));
      DetectionTrainer.Builder b = DetectionTrainer.builder().setModel(model);
      run.trainer.configure(b);
      // workers sharing a JVM take the step lock when a batch is loaded and give it back after
      // the step, on the trainer's thread: batches are therefore loaded there, not ahead
      b.optPrefetch(0);
      boolean writer = rank == 0 && run.checkpointDir != null;
      b.optCheckpointDir(writer ? Path.of(run.checkpointDir) : null)
          .optResume(writer && run.resume);
      if (rank != 0) {
        b.optOutputDir(null)
            .optProgress(
                new PrintStream(OutputStream.nullOutputStream()), ProgressReporter.Mode.OFF);
      }
      b.optListener(averaging);
      try (DetectionTrainer trainer = b.build()) {
        start(trainer, exchange, rank);
        trainer.fit(share);
        List<SparkTrainer.Result> out =
            rank == 0 ? List.of(result(trainer)) : Collections.emptyList();
        return CollectionConverters.asScala(out.iterator());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("worker " + rank + ": " + e.getMessage(), e);
    } finally {
      averaging.release();
    }
  }

  /**
   * Brings every worker to rank 0's starting point: its resumed checkpoint if there is one, else
   * its initial parameters.
   */
  private void start(DetectionTrainer trainer, ParameterExchange exchange, int rank)
      throws IOException {
    byte[] checkpoint = new byte[0];
    if (rank == 0 && run.resume && trainer.resumeFromLatest()) {
      Path file = Path.of(run.checkpointDir).resolve(Checkpoint.fileName(trainer.getNextEpoch()));
      checkpoint = Files.readAllBytes(file);
    }
    byte[] shared = exchange.fromRankZero(checkpoint);
    if (shared.length == 0) {
      exchange.copyFromRankZero(trainer.getModel());
    } else if (rank != 0) {
      Path copy = Files.createTempFile("jdetect-resume-", ".ckpt");
      try {
        Files.write(copy, shared);
        trainer.loadCheckpoint(copy);
      } finally {
        Files.deleteIfExists(copy);
      }
    }
  }

  private static SparkTrainer.Result result(DetectionTrainer trainer) {
    Map<String, float[]> parameters = new LinkedHashMap<>();
    for (Pair<String, NDArray> p : ParameterExchange.parameters(trainer.getModel())) {
      parameters.put(p.getKey(), p.getValue().toFloatArray());
    }
    return new SparkTrainer.Result(parameters, trainer.getGlobalStep(), trainer.getNextEpoch());
  }
}
