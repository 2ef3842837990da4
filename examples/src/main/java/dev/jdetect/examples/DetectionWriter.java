package dev.jdetect.examples;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@link Detect}'s outputs: per image {@code <name>.json} and {@code <name>.png}, never over
 * an input file, and one line per image (result or failure) in {@code detections.jsonl}; counts
 * what succeeded and what failed. Safe for several prediction threads at once.
 */
final class DetectionWriter {
  private final Path out;
  private final Set<Path> inputFiles = new HashSet<>();
  private final Writer lines;
  private final PrintWriter err;
  private int ok;
  private int failed;
  private int detections;

  DetectionWriter(Path out, List<Detect.Input> images, Writer lines, PrintWriter err) {
    this.out = out;
    this.lines = lines;
    this.err = err;
    for (Detect.Input input : images) {
      inputFiles.add(input.file().toAbsolutePath().normalize());
    }
  }

  /** Writes an image's JSON and PNG; may run on several threads at once. */
  void write(Detect.Input input, Image image, DetectedObjects found) {
    Path json = out.resolve(input.name() + ".json");
    Path png = out.resolve(input.name() + ".png");
    try {
      for (Path target : List.of(json, png)) {
        if (inputFiles.contains(target.toAbsolutePath().normalize())) {
          throw new IOException("its output " + target + " would overwrite an input file");
        }
      }
      Map<String, Object> result =
          DetectionJson.of(input.file(), image.getWidth(), image.getHeight(), found);
      Files.createDirectories(json.toAbsolutePath().getParent());
      Files.writeString(json, DetectionJson.pretty(result), StandardCharsets.UTF_8);
      Image drawn = image.duplicate();
      drawn.drawBoundingBoxes(found);
      try (OutputStream os = Files.newOutputStream(png)) {
        drawn.save(os, "png");
      }
      record(DetectionJson.line(result), found.getNumberOfObjects());
    } catch (IOException | RuntimeException e) {
      failed(input, e);
    }
  }

  private synchronized void record(String line, int found) throws IOException {
    lines.write(line);
    ok++;
    detections += found;
  }

  /** Reports an image that could not be processed. */
  synchronized void failed(Detect.Input input, Exception e) {
    Throwable cause = e instanceof TranslateException && e.getCause() != null ? e.getCause() : e;
    String reason =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    reason = reason.strip().replaceAll("\\s*\\R\\s*", "; ");
    err.println("Detect: failed: " + input.file() + ": " + reason);
    failed++;
    try {
      lines.write(DetectionJson.line(DetectionJson.failure(input.file(), reason)));
    } catch (IOException io) {
      err.println("Detect: cannot write " + Detect.JSON_LINES + ": " + io.getMessage());
    }
  }

  synchronized Detect.Summary summary() {
    return new Detect.Summary(ok, failed, detections);
  }
}
