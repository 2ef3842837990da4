package dev.jdetect.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the run's {@link TrainingHistory} as {@code metrics.csv} into a folder after every epoch.
 */
final class MetricsCsvListener implements TrainingListener {

  private final Path dir;

  MetricsCsvListener(Path dir) {
    this.dir = dir;
  }

  @Override
  public void onEpochEnd(DetectionTrainer trainer, TrainingHistory.Epoch record)
      throws IOException {
    Files.createDirectories(dir);
    trainer.getHistory().writeCsv(dir.resolve("metrics.csv"));
  }
}
