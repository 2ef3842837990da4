package dev.jdetect.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.testkit.NDManagerExtension;
import dev.jdetect.train.optim.ResumableAdam;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(NDManagerExtension.class)
class DetectionTrainerTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  private TinyTestModel newModel(int initSeed) {
    Engine.getInstance().setRandomSeed(initSeed);
    TinyTestModel model = new TinyTestModel(2);
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 16, 16));
    return model;
  }

  private static DetectionTrainer.Builder quiet(TinyTestModel model) {
    return DetectionTrainer.builder()
        .setModel(model)
        .optProgress(new PrintStream(new ByteArrayOutputStream()), ProgressReporter.Mode.OFF);
  }

  private static Map<String, float[]> snapshot(TinyTestModel model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      out.put(p.getKey(), p.getValue().getArray().toFloatArray());
    }
    return out;
  }

  private static DetectionTrainer.Builder resumable(TinyTestModel model, Path ckpt, int epochs) {
    return quiet(model)
        .optOptimizer(ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(1e-4f).build())
        .optSchedule(LrSchedule.builder().setBaseLr(0.05).optWarmup(3, 0.1).optCosine(3, 0).build())
        .optEpochs(epochs)
        .optBatchSize(4)
        .optSeed(11)
        .optCheckpointDir(ckpt);
  }

  @Test
  void lossFallsAndMetricsAreWritten(@TempDir Path dir) throws IOException {
    TinyTestModel model = newModel(1);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (DetectionTrainer trainer =
        DetectionTrainer.builder()
            .setModel(model)
            .optOptimizer(ResumableAdam.builder().build())
            .optSchedule(LrSchedule.builder().setBaseLr(0.01).optWarmup(4, 0.1).build())
            .optEpochs(6)
            .optBatchSize(8)
            .optOutputDir(dir)
            .optEvaluator((m, epoch) -> Map.of("mAP@0.5", 0.1 * (epoch + 1)))
            .optProgress(
                new PrintStream(log, true, StandardCharsets.UTF_8), ProgressReporter.Mode.LINES)
            .build()) {
      TrainingHistory history = trainer.fit(new SquaresData(32));
      assertEquals(6, history.getEpochs().size());
      assertEquals(24, trainer.getGlobalStep());
      double first = history.getEpochs().get(0).getLosses().get("loss");
      double last = history.last().getLosses().get("loss");
      assertTrue(last < 0.7 * first, "loss should fall: " + first + " -> " + last);
      Map<String, Double> l = history.last().getLosses();
      assertEquals(
          l.get("loss"), l.get("loss_classifier") + l.get("loss_box_reg"), 1e-5 * l.get("loss"));
    }
    List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
    assertEquals(7, csv.size());
    assertEquals("epoch,steps,lr,seconds,loss,loss_classifier,loss_box_reg,mAP@0.5", csv.get(0));
    assertTrue(csv.get(6).startsWith("6,24,0.01,"), csv.get(6));
    assertTrue(csv.get(6).endsWith(",0.6000000000000001"), csv.get(6));
    String out = log.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("epoch 1/6 1/4 loss "), out);
    assertTrue(out.contains(" classifier ") && out.contains(" box_reg "), out);
    assertTrue(out.contains(" lr ") && out.contains(" ETA "), out);
    assertTrue(out.contains("epoch 6/6 done") && out.contains("mAP@0.5 0.6000"), out);
    try (Stream<Path> files = Files.list(dir)) {
      assertFalse(files.anyMatch(p -> p.toString().endsWith(".tmp")));
    }
  }

  @Test
  void trainsOnAThreadPyTorchNeverSaw() throws Exception {
    // PyTorch starts every new native thread recording gradients; the optimizer's in-place update
    // of a parameter then fails ("a leaf Variable that requires grad is being used in an in-place
    // operation") unless the trainer switches recording off outside its gradient collector
    TinyTestModel model = newModel(3);
    Map<String, float[]> before = snapshot(model);
    long[] steps = new long[1];
    Throwable[] failure = new Throwable[1];
    Thread fresh =
        new Thread(
            () -> {
              try (DetectionTrainer trainer =
                  quiet(model)
                      .optOptimizer(ResumableSgd.builder().build())
                      .optSchedule(LrSchedule.builder().setBaseLr(0.05).build())
                      .optEpochs(1)
                      .optBatchSize(4)
                      .build()) {
                trainer.fit(new SquaresData(8));
                steps[0] = trainer.getGlobalStep();
              } catch (Throwable t) {
                failure[0] = t;
              }
            });
    fresh.start();
    fresh.join();
    if (failure[0] != null) {
      throw new AssertionError("training on a fresh thread failed", failure[0]);
    }
    assertEquals(2, steps[0]);
    Map<String, float[]> after = snapshot(model);
    assertTrue(
        before.keySet().stream().anyMatch(k -> !Arrays.equals(before.get(k), after.get(k))),
        "the parameters should have moved");
  }

  @Test
  void resumeAfterCrashReproducesUninterruptedRun(@TempDir Path dir) throws IOException {
    SquaresData data = new SquaresData(12);
    TinyTestModel straight = newModel(5);
    TrainingHistory straightHistory;
    try (DetectionTrainer t = resumable(straight, dir.resolve("a"), 3).build()) {
      straightHistory = t.fit(data);
    }
    // Second run: dies in the middle of epoch 2 (batch calls 0..2 are epoch 0, 3..5 epoch 1).
    Path ckpt = dir.resolve("b");
    TinyTestModel crashed = newModel(5);
    try (DetectionTrainer t = resumable(crashed, ckpt, 3).build()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> t.fit(new SquaresData(12, -1, 7)));
      assertTrue(e.getMessage().contains("simulated crash"));
      assertEquals(2, t.getNextEpoch());
    }
    assertEquals(Path.of(Checkpoint.fileName(2)), Checkpoint.latest(ckpt).getFileName());
    // A fresh model with other initial weights and a new trainer pick up from the checkpoint.
    TinyTestModel resumed = newModel(99);
    assertNotEquals(
        snapshot(straight).values().iterator().next()[0],
        snapshot(resumed).values().iterator().next()[0]);
    TrainingHistory resumedHistory;
    try (DetectionTrainer t = resumable(resumed, ckpt, 3).optResume(true).build()) {
      resumedHistory = t.fit(data);
      assertEquals(9, t.getGlobalStep());
    }
    Map<String, float[]> a = snapshot(straight);
    Map<String, float[]> b = snapshot(resumed);
    assertEquals(a.keySet(), b.keySet());
    assertTrue(a.keySet().stream().anyMatch(k -> k.contains("runningMean")), a.keySet().toString());
    for (String k : a.keySet()) {
      assertArrayEquals(a.get(k), b.get(k), k);
    }
    for (int e = 0; e < 3; e++) {
      assertEquals(
          straightHistory.getEpochs().get(e).getLosses(),
          resumedHistory.getEpochs().get(e).getLosses());
    }
    // only the newest two checkpoints are kept
    assertEquals(2, Checkpoint.list(ckpt).size());
    assertEquals(Path.of(Checkpoint.fileName(3)), Checkpoint.latest(ckpt).getFileName());
  }

  @Test
  void resumeRejectsOtherSettings(@TempDir Path dir) throws IOException {
    TinyTestModel model = newModel(3);
    try (DetectionTrainer t = resumable(model, dir, 1).build()) {
      t.fit(new SquaresData(8));
    }
    try (DetectionTrainer t = resumable(newModel(3), dir, 2).optSeed(12).optResume(true).build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> t.fit(new SquaresData(8)));
      assertTrue(e.getMessage().contains("seed 11"), e.getMessage());
    }
    Path bogus = Files.writeString(dir.resolve("x.ckpt"), "not a checkpoint");
    try (DetectionTrainer t = resumable(newModel(3), dir, 2).build()) {
      assertThrows(IllegalArgumentException.class, () -> t.loadCheckpoint(bogus));
    }
  }

  @Test
  void nonFiniteLossStopsNamingEpochAndBatch() throws IOException {
    TinyTestModel model = newModel(2);
    Map<String, float[]> before;
    Map<String, float[]>[] atFailure = snapshotHolder();
    // the parameters after each finished step (batches load ahead of the steps on another thread,
    // so the batch calls are no moment to look at them)
    TrainingListener snapshots =
        new TrainingListener() {
          @Override
          public void onStep(DetectionTrainer trainer, Step step) {
            atFailure[0] = snapshot(model);
          }
        };
    try (DetectionTrainer t =
        quiet(model).optBatchSize(4).optEpochs(3).optListener(snapshots).build()) {
      // 2 batches per epoch; batch calls 0..2 are fine, call 3 (epoch 1, batch 1) has NaN boxes
      SquaresData data = new SquaresData(8, 3, -1);
      NonFiniteLossException[] caught = new NonFiniteLossException[1];
      caught[0] = assertThrows(NonFiniteLossException.class, () -> t.fit(data));
      NonFiniteLossException e = caught[0];
      assertEquals(1, e.getEpoch());
      assertEquals(1, e.getBatch());
      assertEquals("loss_box_reg", e.getLossName());
      assertTrue(Float.isNaN(e.getValue()));
      assertTrue(e.getMessage().contains("epoch 1, batch 1"), e.getMessage());
      before = atFailure[0];
    }
    Map<String, float[]> after = snapshot(model);
    for (String k : before.keySet()) {
      if (!k.contains("running")) {
        assertArrayEquals(before.get(k), after.get(k), k);
      }
    }
  }

  @Test
  void nonFiniteGradientStopsBeforeTheUpdate() {
    Engine.getInstance().setRandomSeed(8);
    TinyTestModel model = new TinyTestModel(2, true);
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 16, 16));
    Map<String, float[]> before = snapshot(model);
    try (DetectionTrainer t = quiet(model).optBatchSize(4).build()) {
      NonFiniteLossException e =
          assertThrows(NonFiniteLossException.class, () -> t.fit(new SquaresData(8)));
      assertEquals("gradient_norm", e.getLossName());
      assertEquals(0, e.getEpoch());
      assertEquals(0, e.getBatch());
    }
    Map<String, float[]> after = snapshot(model);
    for (Pair<String, Parameter> p : model.getParameters()) {
      if (p.getValue().requiresGradient()) {
        assertArrayEquals(before.get(p.getKey()), after.get(p.getKey()), p.getKey());
        try (NDArray g = p.getValue().getArray().getGradient()) {
          for (float v : g.toFloatArray()) {
            assertEquals(0f, v, p.getKey() + " gradient must be zeroed");
          }
        }
      }
    }
  }

  @Test
  void nonFiniteGradientsCanBeSkippedUpToALimit() {
    Engine.getInstance().setRandomSeed(8);
    TinyTestModel model = new TinyTestModel(2, true);
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 16, 16));
    Map<String, float[]> before = snapshot(model);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (DetectionTrainer t =
        quiet(model)
            .optBatchSize(4)
            .optSkipNonFiniteGradients(2)
            .optProgress(
                new PrintStream(log, true, StandardCharsets.UTF_8), ProgressReporter.Mode.LINES)
            .build()) {
      // every step is poisoned: two are skipped, the third stops the run
      NonFiniteLossException e =
          assertThrows(NonFiniteLossException.class, () -> t.fit(new SquaresData(16)));
      assertEquals(2, e.getBatch());
      assertEquals(2, t.getSkippedSteps());
    }
    String out = log.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("epoch 0, batch 1: gradient norm is NaN"), out);
    assertTrue(out.contains("step skipped (2 in a row, at most 2)"), out);
    Map<String, float[]> after = snapshot(model);
    for (Pair<String, Parameter> p : model.getParameters()) {
      if (p.getValue().requiresGradient()) {
        assertArrayEquals(before.get(p.getKey()), after.get(p.getKey()), p.getKey());
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, float[]>[] snapshotHolder() {
    return new Map[1];
  }

  @Test
  void gradientClippingBoundsTheUpdate() throws IOException {
    TinyTestModel model = newModel(4);
    Map<String, float[]> before = snapshot(model);
    double lr = 1.0;
    double maxNorm = 0.01;
    try (DetectionTrainer t =
        quiet(model)
            .optOptimizer(ResumableSgd.builder().optMomentum(0).optWeightDecay(0).build())
            .optSchedule(LrSchedule.constant(lr))
            .optGradientClipNorm(maxNorm)
            .optBatchSize(4)
            .build()) {
      t.fit(new SquaresData(4));
    }
    Map<String, float[]> after = snapshot(model);
    double sq = 0;
    for (Pair<String, Parameter> p : model.getParameters()) {
      if (!p.getValue().requiresGradient()) {
        continue;
      }
      float[] a = before.get(p.getKey());
      float[] b = after.get(p.getKey());
      for (int i = 0; i < a.length; i++) {
        sq += (double) (b[i] - a[i]) * (b[i] - a[i]);
      }
    }
    assertEquals(lr * maxNorm, Math.sqrt(sq), 1e-3 * lr * maxNorm);
  }

  @Test
  void uninitializedModelIsRejected() {
    TinyTestModel model = new TinyTestModel(2);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> quiet(model).build());
    assertTrue(e.getMessage().contains("not initialized"), e.getMessage());
  }

  @Test
  void nativeMemoryStaysFlatOver300Steps() throws IOException {
    TinyTestModel model = newModel(6);
    NDManager root = manager.getParentManager();
    List<Integer> counts = new ArrayList<>();
    List<Long> rss = new ArrayList<>();
    try (DetectionTrainer t =
        quiet(model)
            .optOptimizer(ResumableSgd.builder().build())
            .optEpochs(30)
            .optBatchSize(4)
            .optGradientClipNorm(10)
            .optEvaluator(
                (m, epoch) -> {
                  counts.add(root.getManagedArrays().size());
                  // resident memory outside the Java heap: native tensors, allocator arenas, code
                  rss.add(residentKb() - Runtime.getRuntime().totalMemory() / 1024);
                  return Map.of();
                })
            .build()) {
      t.fit(new SquaresData(40));
      assertEquals(300, t.getGlobalStep());
    }
    // after the first epoch (optimizer state created) the number of live arrays is constant
    assertEquals(counts.get(1), counts.get(counts.size() - 1), counts.toString());
    // The live-array count above is the exact check. RSS is a coarse second one for leaks outside
    // DJL's managers (allocator arenas and heap pages touched for the first time move it by tens of
    // MB from run to run, so only a gross native leak trips it).
    long growthKb = rss.get(rss.size() - 1) - rss.get(5);
    assertTrue(
        growthKb < 160 * 1024, "non-heap RSS grew by " + growthKb + " kB over 250 steps: " + rss);
  }

  private static long residentKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }
}
