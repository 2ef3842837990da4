package dev.jdetect.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ties a checkpoint folder to one run: refuses a fresh run in a folder holding checkpoints (or
 * deletes them when asked to start clean), resumes from the newest intact checkpoint whose settings
 * match, writes a checkpoint after every epoch, keeps the newest N and, optionally, the best by a
 * validation metric.
 */
final class CheckpointListener implements TrainingListener {

  private final Path dir;
  private final int keep;
  private final String bestMetric;
  private final boolean resume;
  private final boolean startClean;

  CheckpointListener(TrainingConfig config) {
    this.dir = config.checkpointDir();
    this.keep = config.keepCheckpoints();
    this.bestMetric = config.keepBestMetric();
    this.resume = config.resume();
    this.startClean = config.startClean();
  }

  @Override
  public void onTrainingBegin(DetectionTrainer trainer) throws IOException {
    if (resume && !trainer.isRestored()) {
      resumeFromLatest(trainer);
    }
    // the folder may hold only this run's checkpoints: never write over another run's
    List<Path> foreign = new ArrayList<>();
    for (Path p : list()) {
      if (!trainer.getRunId().equals(runIdOf(p))) {
        foreign.add(p);
      }
    }
    if (foreign.isEmpty()) {
      return;
    }
    if (!startClean) {
      throw new IllegalStateException(
          "checkpoint folder "
              + dir
              + " already holds "
              + foreign.size()
              + " checkpoint(s) of another run (e.g. "
              + foreign.get(foreign.size() - 1).getFileName()
              + "); resume that run with optResume(true), choose another folder, or let this run"
              + " delete them with optStartClean(true)");
    }
    for (Path p : foreign) {
      Files.deleteIfExists(p);
    }
    trainer.message("deleted " + foreign.size() + " checkpoint(s) of another run from " + dir);
  }

  private static String runIdOf(Path file) {
    try {
      return Checkpoint.readHeader(file).runId();
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }

  private List<Path> list() throws IOException {
    List<Path> all = Checkpoint.list(dir);
    Path best = dir.resolve(Checkpoint.BEST_FILE);
    if (Files.exists(best)) {
      all.add(best);
    }
    return all;
  }

  boolean resumeFromLatest(DetectionTrainer trainer) throws IOException {
    List<Path> all = Checkpoint.list(dir);
    List<String> problems = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      Path file = all.get(i);
      try {
        Checkpoint.verify(file);
      } catch (CorruptCheckpointException e) {
        trainer.message(
            "warning: checkpoint "
                + file
                + " is unusable ("
                + e.getReason()
                + "); trying the previous one");
        problems.add(file.getFileName() + ": " + e.getReason());
        continue;
      }
      // keep the damaged newer files for inspection, out of the way of the checkpoints to come
      for (int j = i + 1; j < all.size(); j++) {
        Path damaged = all.get(j);
        Files.move(
            damaged,
            damaged.resolveSibling(damaged.getFileName() + ".damaged"),
            StandardCopyOption.REPLACE_EXISTING);
      }
      load(trainer, file);
      return true;
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          "checkpoint folder "
              + dir
              + " holds no intact checkpoint to resume from ("
              + String.join("; ", problems)
              + "); move them away, or start a new run with optStartClean(true)");
    }
    return false;
  }

  static void load(DetectionTrainer trainer, Path file) throws IOException {
    TrainingConfig config = trainer.getConfig();
    Checkpoint.Header header = Checkpoint.verify(file);
    checkSettings(trainer, file, header, config);
    Checkpoint.Restored r =
        Checkpoint.read(file, trainer.getModel(), config.optimizer(), trainer.manager());
    trainer.restore(r);
    trainer.message(
        "resumed run "
            + header.runId()
            + " from "
            + file
            + " (epoch "
            + header.epochsDone()
            + " done, step "
            + header.globalStep()
            + ")");
  }

  /**
   * Refuses a checkpoint written with other settings, except a schedule of another length: a run
   * extended with more epochs (a cosine schedule over the new total) continues with a warning.
   */
  private static void checkSettings(
      DetectionTrainer trainer, Path file, Checkpoint.Header header, TrainingConfig config) {
    if (header.configHash().equals(config.hash())) {
      return;
    }
    Map<String, String> theirs = parse(header.configDescription());
    Map<String, String> ours = parse(config.describe());
    List<String> differences = new ArrayList<>();
    boolean onlySchedule = true;
    for (Map.Entry<String, String> e : ours.entrySet()) {
      String other = theirs.get(e.getKey());
      if (!e.getValue().equals(other)) {
        differences.add(e.getKey() + " " + other + " (this trainer: " + e.getValue() + ")");
        onlySchedule &= e.getKey().equals("schedule");
      }
    }
    if (onlySchedule && !differences.isEmpty()) {
      trainer.message(
          "warning: resuming "
              + file
              + " with another learning-rate schedule: "
              + String.join(", ", differences)
              + "; the epochs already done followed the old one");
      return;
    }
    throw new IllegalArgumentException(
        file
            + " belongs to run "
            + header.runId()
            + ", which was written with other settings: "
            + (differences.isEmpty() ? "settings hash differs" : String.join(", ", differences))
            + "; resume with the same settings or use another checkpoint folder");
  }

  private static Map<String, String> parse(String description) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : description.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        out.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return out;
  }

  @Override
  public void onEpochEnd(DetectionTrainer trainer, TrainingHistory.Epoch record)
      throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(Checkpoint.fileName(trainer.getNextEpoch()));
    TrainingConfig config = trainer.getConfig();
    Checkpoint.Header header =
        new Checkpoint.Header(
            trainer.getRunId(),
            config.hash(),
            config.describe(),
            trainer.getNextEpoch(),
            trainer.getGlobalStep());
    Checkpoint.write(
        file,
        header,
        trainer.random(),
        trainer.getHistory(),
        trainer.getModel(),
        config.optimizer());
    if (isBest(trainer.getHistory(), record)) {
      AtomicFiles.write(dir.resolve(Checkpoint.BEST_FILE), out -> Files.copy(file, out));
    }
    List<Path> all = Checkpoint.list(dir);
    for (int i = 0; i < all.size() - keep; i++) {
      Files.deleteIfExists(all.get(i));
    }
  }

  private boolean isBest(TrainingHistory history, TrainingHistory.Epoch record) {
    Double value = bestMetric == null ? null : record.getMetrics().get(bestMetric);
    if (value == null || value.isNaN()) {
      return false;
    }
    for (TrainingHistory.Epoch e : history.getEpochs()) {
      Double earlier = e.getMetrics().get(bestMetric);
      if (e.getEpoch() < record.getEpoch() && earlier != null && earlier >= value) {
        return false;
      }
    }
    return true;
  }
}
