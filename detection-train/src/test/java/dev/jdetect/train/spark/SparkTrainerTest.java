package dev.jdetect.train.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.Checkpoint;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.ProgressReporter;
import dev.jdetect.train.Seeds;
import dev.jdetect.train.SquaresData;
import dev.jdetect.train.TinyTestModel;
import dev.jdetect.train.data.TrainingData;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two workers with batch b against one process with batch 2b. Why the two must agree: the model
 * ({@link TinyTestModel#withoutBatchNorm}) has no batch norm, so each image's losses depend on that
 * image alone, and both of its losses are means over the batch; the data ({@link
 * SquaresData#withoutFlips}) draw nothing at random. Each worker's share is b of the 2b images and
 * one batch, so in every epoch a worker's gradient is the mean over its b images and the single
 * process's the mean over all 2b, the mean of the two workers' gradients. With plain SGD (no
 * momentum, no weight decay) and averaging after every step, the mean of the workers' updated
 * parameters is then the single process's update; only float rounding differs.
 */
@ExtendWith(LocalSpark.class)
class SparkTrainerTest {

  private static final int B = 3;
  private static final int EPOCHS = 3;

  private static Map<String, float[]> initial;
  private static Map<String, float[]> reference;

  private static DetectionModel newModel(NDManager manager) {
    TinyTestModel model = TinyTestModel.withoutBatchNorm(2);
    Seeds.initialize(model, manager, 7, DataType.FLOAT32, new Shape(1, 3, 16, 16));
    return model;
  }

  private static TrainingData data() {
    return SquaresData.withoutFlips(2 * B);
  }

  private static void settings(DetectionTrainer.Builder b, int epochs, int batchSize) {
    b.optOptimizer(ResumableSgd.builder().optMomentum(0).optWeightDecay(0).build())
        .optSchedule(LrSchedule.constant(0.5))
        .optEpochs(epochs)
        .optBatchSize(batchSize)
        .optSeed(3)
        .optProgress(new PrintStream(OutputStream.nullOutputStream()), ProgressReporter.Mode.OFF);
  }

  private static Map<String, float[]> snapshot(DetectionModel model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      out.put(p.getKey(), p.getValue().getArray().toFloatArray());
    }
    return out;
  }

  /** One process, batch 2b, three epochs of one step each. */
  @BeforeAll
  static void trainOneProcess() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = newModel(manager);
      initial = snapshot(model);
      DetectionTrainer.Builder b = DetectionTrainer.builder().setModel(model);
      settings(b, EPOCHS, 2 * B);
      try (DetectionTrainer trainer = b.build()) {
        trainer.fit(data());
        assertEquals(EPOCHS, trainer.getGlobalStep());
      }
      reference = snapshot(model);
    }
  }

  private static SparkTrainer.Builder twoWorkers(int epochs, Path checkpoints) {
    return SparkTrainer.builder()
        .setModel(SparkTrainerTest::newModel)
        .setData(SparkTrainerTest::data)
        .setTrainer(b -> settings(b, epochs, B))
        .setWorkers(2)
        .optAverageEvery(1)
        .optCheckpointDir(checkpoints.toString());
  }

  private static void assertReference(SparkTrainer.Result result) {
    assertEquals(reference.keySet(), result.parameters().keySet());
    double moved = 0;
    for (Map.Entry<String, float[]> e : reference.entrySet()) {
      assertArrayEquals(e.getValue(), result.parameters().get(e.getKey()), 1e-5f, e.getKey());
      float[] start = initial.get(e.getKey());
      for (int i = 0; i < start.length; i++) {
        moved = Math.max(moved, Math.abs(e.getValue()[i] - start[i]));
      }
    }
    // the steps moved the parameters far beyond the tolerance
    assertTrue(moved > 1e-2, "largest change " + moved);
  }

  /**
   * Loads the result into a new model on a thread PyTorch has not seen, where it records gradients
   * by default (and refuses in-place writes to parameters unless the copy switches that off).
   */
  private static void assertLoadsOnAFreshThread(SparkTrainer.Result result) throws Exception {
    AtomicReference<Map<String, float[]>> loaded = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread thread =
        new Thread(
            () -> {
              try (NDManager manager = NDManager.newBaseManager()) {
                DetectionModel model = newModel(manager);
                result.loadInto(model);
                loaded.set(snapshot(model));
              } catch (RuntimeException e) {
                failure.set(e);
              }
            });
    thread.start();
    thread.join();
    if (failure.get() != null) {
      throw new AssertionError("loadInto failed", failure.get());
    }
    for (Map.Entry<String, float[]> e : result.parameters().entrySet()) {
      assertArrayEquals(e.getValue(), loaded.get().get(e.getKey()), e.getKey());
    }
  }

  @Test
  void twoWorkersWithBatchBTakeTheStepsOfOneProcessWithBatch2b(
      SparkSession spark, @TempDir Path dir) throws Exception {
    SparkTrainer.Result result = twoWorkers(EPOCHS, dir).build().fit(spark);
    assertEquals(EPOCHS, result.globalStep());
    assertEquals(EPOCHS, result.epochs());
    assertReference(result);
    assertLoadsOnAFreshThread(result);
    // rank 0 alone wrote them (a second writer would have found another run's checkpoints)
    assertTrue(Files.exists(dir.resolve(Checkpoint.fileName(EPOCHS))));
  }

  @Test
  void aResumedRunEndsWhereAnUninterruptedOneDoes(SparkSession spark, @TempDir Path dir) {
    SparkTrainer.Result first = twoWorkers(EPOCHS - 1, dir).build().fit(spark);
    assertEquals(EPOCHS - 1, first.globalStep());
    SparkTrainer.Result resumed = twoWorkers(EPOCHS, dir).optResume(true).build().fit(spark);
    assertEquals(EPOCHS, resumed.globalStep());
    assertReference(resumed);
  }
}
