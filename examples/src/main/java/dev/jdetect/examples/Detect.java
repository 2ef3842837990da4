package dev.jdetect.examples;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.util.JsonUtils;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.train.data.ImageFiles;
import dev.jdetect.train.inference.DetectionDrawer;
import dev.jdetect.train.inference.Detector;
import dev.jdetect.train.inference.ModelDescription;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Detects objects in images with a saved model directory (as written by {@code TrainTinySsd} and
 * the other training examples; every name of the model zoo is known) and writes, per image, a PNG
 * with the boxes drawn and a JSON file listing class, score and box (relative to the image and in
 * its pixels).
 */
@Command(
    name = "Detect",
    description = {
      "Runs a saved jdetect model on images; writes <out>/<name>.png with the boxes drawn and"
          + " <out>/<name>.json with class, score and box of every detection."
    })
public final class Detect implements Callable<Integer> {

  private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

  @Option(
      names = {"--model-dir", "--model"},
      paramLabel = "DIR",
      required = true,
      description = "Saved model directory (model.json + weights), as the training mains write.")
  Path modelDir;

  @Option(names = "--out", paramLabel = "DIR", description = "Output folder.")
  Path out = Path.of("detections");

  @Option(
      names = "--threshold",
      paramLabel = "SCORE",
      converter = Values.Probability.class,
      description = "Minimum score (default: the model's scoreThreshold).")
  Double threshold;

  @Option(
      names = "--batch",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Images per forward pass.")
  int batch = 8;

  @Parameters(
      paramLabel = "IMAGE",
      arity = "1..*",
      description = "Image files or folders (their .png, .jpg, .jpeg, .bmp and .gif files).")
  List<Path> inputs;

  private Detect() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(Detect.class, args);
  }

  @Override
  public Integer call() throws IOException {
    List<Path> images = new ArrayList<>();
    for (Path p : inputs) {
      collect(p, images);
    }
    int n = run(modelDir, images, out, threshold == null ? null : threshold.floatValue(), batch);
    System.out.printf(
        Locale.ROOT, "%d images, %d detections, written to %s%n", images.size(), n, out);
    return 0;
  }

  private static void collect(Path p, List<Path> out) throws IOException {
    if (Files.isDirectory(p)) {
      try (Stream<Path> files = Files.list(p)) {
        files.sorted().filter(Detect::isImage).forEach(out::add);
      }
    } else if (Files.isRegularFile(p)) {
      out.add(p);
    } else {
      throw new IllegalArgumentException("no such image or folder: " + p);
    }
  }

  private static boolean isImage(Path p) {
    String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return EXTENSIONS.stream().anyMatch(name::endsWith);
  }

  /**
   * Detects objects in images and writes the PNG and JSON outputs.
   *
   * @param modelDir the saved model directory
   * @param images the image files
   * @param out the output folder
   * @param threshold a score threshold overriding the model's, or {@code null}
   * @param batch images per forward pass
   * @return the total number of detections
   * @throws IOException if a file cannot be read or written
   */
  public static int run(Path modelDir, List<Path> images, Path out, Float threshold, int batch)
      throws IOException {
    Files.createDirectories(out);
    int total = 0;
    try (Detector loaded = Detector.load(modelDir)) {
      Detector detector = loaded;
      Detector override = null;
      if (threshold != null) {
        ModelDescription d =
            loaded.getDescription().toBuilder().optScoreThreshold(threshold).build();
        override = Detector.of(loaded.getModel(), d);
        detector = override;
      }
      try {
        for (int from = 0; from < images.size(); from += batch) {
          List<Path> files = images.subList(from, Math.min(images.size(), from + batch));
          List<Image> decoded = new ArrayList<>();
          for (Path f : files) {
            decoded.add(ImageFactory.getInstance().fromImage(ImageFiles.read(f)));
          }
          List<DetectedObjects> results = detector.detect(decoded);
          for (int i = 0; i < files.size(); i++) {
            String stem = files.get(i).getFileName().toString().replaceFirst("\\.[^.]+$", "");
            DetectedObjects found = results.get(i);
            total += found.getNumberOfObjects();
            DetectionDrawer.savePng(
                DetectionDrawer.draw(decoded.get(i), found), out.resolve(stem + ".png"));
            Files.writeString(
                out.resolve(stem + ".json"),
                toJson(files.get(i), decoded.get(i), found),
                StandardCharsets.UTF_8);
          }
        }
      } finally {
        if (override != null) {
          override.close();
        }
      }
    }
    return total;
  }

  static String toJson(Path file, Image image, DetectedObjects found) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("image", file.toString());
    root.put("width", image.getWidth());
    root.put("height", image.getHeight());
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i = 0; i < found.getNumberOfObjects(); i++) {
      DetectedObjects.DetectedObject o = found.item(i);
      Rectangle r = o.getBoundingBox().getBounds();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("class", o.getClassName());
      m.put("score", o.getProbability());
      m.put("box_relative_xywh", List.of(r.getX(), r.getY(), r.getWidth(), r.getHeight()));
      m.put(
          "box_pixels_xyxy",
          List.of(
              r.getX() * image.getWidth(),
              r.getY() * image.getHeight(),
              (r.getX() + r.getWidth()) * image.getWidth(),
              (r.getY() + r.getHeight()) * image.getHeight()));
      list.add(m);
    }
    root.put("detections", list);
    return JsonUtils.GSON_PRETTY.toJson(root) + "\n";
  }
}
