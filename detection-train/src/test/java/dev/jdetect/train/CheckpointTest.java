package dev.jdetect.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.testkit.NDManagerExtension;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints tied to a run, checksummed, and resumed from the newest intact one. */
@ExtendWith(NDManagerExtension.class)
class CheckpointTest {

  private NDManager manager;
  private ByteArrayOutputStream log;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
    log = new ByteArrayOutputStream();
  }

  private TinyTestModel newModel(long seed) {
    TinyTestModel model = new TinyTestModel(2);
    Seeds.initialize(model, manager, seed, DataType.FLOAT32, new Shape(1, 3, 16, 16));
    return model;
  }

  private DetectionTrainer.Builder trainer(TinyTestModel model, Path ckpt, int epochs) {
    return DetectionTrainer.builder()
        .setModel(model)
        .optOptimizer(ResumableSgd.builder().optMomentum(0.9f).build())
        .optSchedule(LrSchedule.builder().setBaseLr(0.05).optWarmup(2, 0.1).build())
        .optEpochs(epochs)
        .optBatchSize(4)
        .optSeed(5)
        .optCheckpointDir(ckpt)
        .optKeepCheckpoints(5)
        .optProgress(
            new PrintStream(log, true, StandardCharsets.UTF_8), ProgressReporter.Mode.LINES);
  }

  private static Map<String, float[]> snapshot(TinyTestModel model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      out.put(p.getKey(), p.getValue().getArray().toFloatArray());
    }
    return out;
  }

  private static void assertSameParameters(Map<String, float[]> a, Map<String, float[]> b) {
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertArrayEquals(a.get(k), b.get(k), k);
    }
  }

  /** Trains 3 epochs into {@code ckpt} and returns the final parameters. */
  private Map<String, float[]> trainThreeEpochs(Path ckpt) throws IOException {
    TinyTestModel model = newModel(1);
    try (DetectionTrainer t = trainer(model, ckpt, 3).build()) {
      t.fit(new SquaresData(12));
    }
    return snapshot(model);
  }

  /** Resumes a 3-epoch run from {@code ckpt}: it must pick epoch 2 and end as the straight run. */
  private void resumesFromEpochTwo(Path ckpt, Map<String, float[]> straight, String reason)
      throws IOException {
    TinyTestModel model = newModel(77);
    try (DetectionTrainer t = trainer(model, ckpt, 3).optResume(true).build()) {
      assertTrue(t.resumeFromLatest());
      assertEquals(2, t.getNextEpoch());
      assertEquals(6, t.getGlobalStep());
      t.fit(new SquaresData(12));
      assertEquals(9, t.getGlobalStep());
    }
    String out = log.toString(StandardCharsets.UTF_8);
    Path damaged = ckpt.resolve(Checkpoint.fileName(3));
    assertTrue(out.contains("warning: checkpoint " + damaged + " is unusable ("), out);
    assertTrue(out.contains(reason), out);
    assertFalse(out.contains("null"), out);
    assertTrue(Files.exists(ckpt.resolve(Checkpoint.fileName(3) + ".damaged")));
    assertSameParameters(straight, snapshot(model));
  }

  @Test
  void parametersAreStoredAsSafetensorsUnderTorchvisionNames(@TempDir Path dir) throws IOException {
    Path ckpt = dir.resolve("ckpt");
    trainThreeEpochs(ckpt);
    String text =
        new String(
            Files.readAllBytes(ckpt.resolve(Checkpoint.fileName(3))), StandardCharsets.ISO_8859_1);
    Map<String, Parameter> names = TorchvisionNames.of(newModel(1));
    assertFalse(names.isEmpty());
    for (String name : names.keySet()) {
      assertTrue(text.contains("\"" + name + "\":{\"dtype\":\"F32\""), name);
    }
  }

  @Test
  void flippedBytesAreDetectedAndThePreviousCheckpointIsUsed(@TempDir Path dir) throws IOException {
    Path ckpt = dir.resolve("ckpt");
    Map<String, float[]> straight = trainThreeEpochs(ckpt);
    Path last = ckpt.resolve(Checkpoint.fileName(3));
    byte[] bytes = Files.readAllBytes(last);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(last, bytes);
    CorruptCheckpointException e =
        assertThrows(CorruptCheckpointException.class, () -> Checkpoint.verify(last));
    assertEquals(last, e.getFile());
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    resumesFromEpochTwo(ckpt, straight, "SHA-256 checksum mismatch");
  }

  @Test
  void truncatedCheckpointIsDetectedAndThePreviousCheckpointIsUsed(@TempDir Path dir)
      throws IOException {
    Path ckpt = dir.resolve("ckpt");
    Map<String, float[]> straight = trainThreeEpochs(ckpt);
    Path last = ckpt.resolve(Checkpoint.fileName(3));
    Path copy = dir.resolve("copy.ckpt");
    Files.copy(last, copy);
    try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }
    // also a file cut inside its header: a reason, never "null: EOFException"
    try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
      ch.truncate(20);
    }
    try (DetectionTrainer t = trainer(newModel(1), ckpt, 3).build()) {
      CorruptCheckpointException e =
          assertThrows(CorruptCheckpointException.class, () -> t.loadCheckpoint(copy));
      assertTrue(e.getMessage().startsWith(copy + ": truncated"), e.getMessage());
      e = assertThrows(CorruptCheckpointException.class, () -> t.loadCheckpoint(last));
      assertTrue(e.getMessage().startsWith(last + ": truncated"), e.getMessage());
    }
    resumesFromEpochTwo(ckpt, straight, "truncated");
  }

  @Test
  void freshRunRefusesAFolderWithAnotherRunsCheckpoints(@TempDir Path dir) throws IOException {
    Path ckpt = dir.resolve("ckpt");
    String firstRun;
    try (DetectionTrainer t = trainer(newModel(1), ckpt, 1).build()) {
      t.fit(new SquaresData(8));
      firstRun = t.getRunId();
    }
    Path first = ckpt.resolve(Checkpoint.fileName(1));
    byte[] before = Files.readAllBytes(first);
    try (DetectionTrainer t = trainer(newModel(1), ckpt, 2).build()) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> t.fit(new SquaresData(8)));
      assertTrue(e.getMessage().contains("checkpoint folder " + ckpt), e.getMessage());
      assertTrue(e.getMessage().contains("optResume(true)"), e.getMessage());
      assertTrue(e.getMessage().contains("optStartClean(true)"), e.getMessage());
      assertEquals(0, t.getGlobalStep());
    }
    assertArrayEquals(before, Files.readAllBytes(first));
    // resuming the same settings continues the first run under its id
    try (DetectionTrainer t = trainer(newModel(1), ckpt, 2).optResume(true).build()) {
      t.fit(new SquaresData(8));
      assertEquals(firstRun, t.getRunId());
      assertEquals(Checkpoint.verify(ckpt.resolve(Checkpoint.fileName(2))).runId(), firstRun);
    }
    // starting clean, when asked, replaces them with a new run
    try (DetectionTrainer t = trainer(newModel(1), ckpt, 1).optStartClean(true).build()) {
      t.fit(new SquaresData(8));
      assertNotEquals(firstRun, t.getRunId());
      assertEquals(List.of(first), Checkpoint.list(ckpt));
      assertEquals(t.getRunId(), Checkpoint.verify(first).runId());
    }
  }

  @Test
  void aLoadedRunDoesNotWriteOverAnotherRunsCheckpoints(@TempDir Path dir) throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    try (DetectionTrainer t = trainer(newModel(1), a, 1).build()) {
      t.fit(new SquaresData(8));
    }
    try (DetectionTrainer t = trainer(newModel(2), b, 2).build()) {
      t.fit(new SquaresData(8));
    }
    byte[] before = Files.readAllBytes(b.resolve(Checkpoint.fileName(2)));
    try (DetectionTrainer t = trainer(newModel(3), b, 2).build()) {
      t.loadCheckpoint(a.resolve(Checkpoint.fileName(1)));
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> t.fit(new SquaresData(8)));
      assertTrue(e.getMessage().contains("checkpoint folder " + b), e.getMessage());
    }
    assertArrayEquals(before, Files.readAllBytes(b.resolve(Checkpoint.fileName(2))));
  }

  @Test
  void resumeRefusesOtherSettings(@TempDir Path dir) throws IOException {
    Path ckpt = dir.resolve("ckpt");
    try (DetectionTrainer t = trainer(newModel(1), ckpt, 1).build()) {
      t.fit(new SquaresData(8));
      assertEquals(t.getConfig().hash(), Checkpoint.verify(Checkpoint.latest(ckpt)).configHash());
    }
    try (DetectionTrainer t =
        trainer(newModel(1), ckpt, 2)
            .optBatchSize(2)
            .optGradientClipNorm(1)
            .optResume(true)
            .build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> t.fit(new SquaresData(8)));
      assertTrue(e.getMessage().contains("batchSize 4 (this trainer: 2)"), e.getMessage());
      assertTrue(e.getMessage().contains("clipNorm 0.0 (this trainer: 1.0)"), e.getMessage());
      assertTrue(e.getMessage().startsWith(Checkpoint.latest(ckpt).toString()), e.getMessage());
    }
  }

  @Test
  void keepsTheLastNAndTheBestByValidationMetric(@TempDir Path dir) throws IOException {
    Path ckpt = dir.resolve("ckpt");
    double[] map = {0.2, 0.5, 0.4, 0.3};
    List<Long> bestSteps = new ArrayList<>();
    try (DetectionTrainer t =
        trainer(newModel(1), ckpt, 4)
            .optKeepCheckpoints(2)
            .optKeepBest("mAP")
            .optEvaluator((m, epoch) -> Map.of("mAP", map[epoch]))
            .optListener(
                new TrainingListener() {
                  @Override
                  public void onEpochEnd(DetectionTrainer trainer, TrainingHistory.Epoch record)
                      throws IOException {
                    bestSteps.add(
                        Checkpoint.verify(ckpt.resolve(Checkpoint.BEST_FILE)).globalStep());
                  }
                })
            .build()) {
      t.fit(new SquaresData(8));
    }
    assertEquals(List.of(2L, 4L, 4L, 4L), bestSteps);
    assertEquals(
        List.of(ckpt.resolve(Checkpoint.fileName(3)), ckpt.resolve(Checkpoint.fileName(4))),
        Checkpoint.list(ckpt));
    assertEquals(2, Checkpoint.verify(ckpt.resolve(Checkpoint.BEST_FILE)).epochsDone());
  }
}
