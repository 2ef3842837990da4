package dev.jdetect.examples;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.models.inference.ModelCard;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.train.data.ImageFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Detects objects in images with a saved model directory (as the training examples write it),
 * loaded through DJL's {@code Criteria}. For every image it writes {@code <out>/<name>.json}
 * (class, score and box of every detection, relative to the image and in its pixels) and {@code
 * <out>/<name>.png} (the boxes drawn), where {@code <name>} is the image's path below the folder it
 * was found in, extension kept; all results also go to {@code <out>/detections.jsonl}, one line per
 * image. An image that cannot be read or processed is reported (file and reason) and the others go
 * on; the exit code is 1 if any failed.
 */
@Command(
    name = "Detect",
    description = {
      "Runs a saved jdetect model on images; writes <out>/<name>.json and <out>/<name>.png (the"
          + " boxes drawn) per image, <name> being the image's path below its folder with its"
          + " extension, and <out>/detections.jsonl with one line per image."
    })
public final class Detect implements Callable<Integer> {

  /** The file of all results, one JSON object a line. */
  public static final String JSON_LINES = "detections.jsonl";

  private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

  @Option(
      names = {"--model-dir", "--model"},
      paramLabel = "DIR",
      required = true,
      description = "Saved model directory, as the training mains write it.")
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

  @Option(
      names = "--threads",
      paramLabel = "N",
      converter = Values.Positive.class,
      description =
          "Predictors working at once, each decoding, predicting and writing its own batches"
              + " (they share one copy of the weights).")
  int threads = 1;

  @Option(
      names = "--allow-output-in-input",
      description = "Allow --out inside an input folder (input files are never overwritten).")
  boolean allowOutputInInput;

  @Option(
      names = "--info",
      description = "Print the model card (classes, input size, training data, quality) and exit.")
  boolean info;

  @Parameters(
      paramLabel = "IMAGE",
      arity = "0..*",
      description =
          "Image files or folders (their .png, .jpg, .jpeg, .bmp and .gif files, below"
              + " subfolders too).")
  List<Path> inputs = new ArrayList<>();

  @Spec CommandSpec spec;

  private Detect() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(Detect.class, args);
  }

  /**
   * What a run did.
   *
   * @param ok images with results written
   * @param failed images reported as failed
   * @param detections detections written
   */
  public record Summary(int ok, int failed, int detections) {}

  /** An image file and the name of its outputs below the output folder. */
  record Input(Path file, String name) {}

  @Override
  public Integer call() throws IOException {
    if (info) {
      ModelDescription d = SavedModel.checkFormat(modelDir);
      ModelCard card = d.getCard() != null ? d.getCard() : new ModelCard(null, 0, null, null, null);
      card.summary(d).forEach(spec.commandLine().getOut()::println);
      return 0;
    }
    if (inputs.isEmpty()) {
      throw Cli.badUsage(spec, "give at least one IMAGE file or folder (or --info)");
    }
    SavedModel.checkFormat(modelDir);
    List<Input> images = new ArrayList<>();
    for (Path p : inputs) {
      if (Files.isDirectory(p) && !allowOutputInInput && isInside(out, p)) {
        throw Cli.badUsage(
            spec,
            "--out "
                + out
                + " is inside the input folder "
                + p
                + "; choose another folder or pass --allow-output-in-input");
      }
      collect(p, images);
    }
    Summary s = run(modelDir, images, out, threshold, batch, threads, spec.commandLine().getErr());
    spec.commandLine()
        .getOut()
        .printf(
            Locale.ROOT,
            "%d images: %d ok, %d failed; %d detections written to %s%n",
            images.size(),
            s.ok(),
            s.failed(),
            s.detections(),
            out);
    return s.failed() > 0 ? Cli.FAILURE : 0;
  }

  private static boolean isInside(Path out, Path folder) {
    return out.toAbsolutePath().normalize().startsWith(folder.toAbsolutePath().normalize());
  }

  /** Adds a file, or the images below a folder named by their path relative to it. */
  private static void collect(Path p, List<Input> images) throws IOException {
    if (Files.isDirectory(p)) {
      List<Path> files;
      try (var walk = Files.walk(p)) {
        files = walk.filter(Files::isRegularFile).filter(Detect::isImage).sorted().toList();
      }
      for (Path f : files) {
        images.add(new Input(f, p.relativize(f).toString().replace('\\', '/')));
      }
    } else if (Files.isRegularFile(p)) {
      images.add(new Input(p, p.getFileName().toString()));
    } else {
      throw new IllegalArgumentException("no such image or folder: " + p);
    }
  }

  private static boolean isImage(Path p) {
    String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return EXTENSIONS.stream().anyMatch(name::endsWith);
  }

  /**
   * Detects objects in image files and writes the outputs, each named after its file name.
   *
   * @param modelDir the saved model directory
   * @param files the image files
   * @param out the output folder
   * @param threshold a score threshold overriding the model's, or {@code null}
   * @param batch images per forward pass
   * @return what was done
   * @throws IOException if the model cannot be loaded or the output folder not written
   */
  public static Summary run(Path modelDir, List<Path> files, Path out, Float threshold, int batch)
      throws IOException {
    List<Input> images = new ArrayList<>();
    for (Path f : files) {
      images.add(new Input(f, f.getFileName().toString()));
    }
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    return run(modelDir, images, out, threshold == null ? null : (double) threshold, batch, 1, err);
  }

  private static Summary run(
      Path modelDir,
      List<Input> images,
      Path out,
      Double threshold,
      int batch,
      int threads,
      PrintWriter err)
      throws IOException {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be at least 1, got " + batch);
    }
    SavedModel.checkFormat(modelDir);
    Files.createDirectories(out);
    Map<String, Object> arguments = new HashMap<>();
    if (threshold != null) {
      arguments.put("threshold", threshold);
    }
    Criteria<Image, DetectedObjects> criteria =
        Criteria.builder()
            .setTypes(Image.class, DetectedObjects.class)
            .optModelPath(modelDir)
            .optEngine("PyTorch")
            .optTranslatorFactory(new DetectionTranslatorFactory())
            .optArguments(arguments)
            .build();
    images = uniqueNames(images);
    List<List<Input>> batches = new ArrayList<>();
    for (int from = 0; from < images.size(); from += batch) {
      batches.add(images.subList(from, Math.min(images.size(), from + batch)));
    }
    try (ZooModel<Image, DetectedObjects> model = criteria.loadModel();
        Writer lines = Files.newBufferedWriter(out.resolve(JSON_LINES), StandardCharsets.UTF_8)) {
      DetectionWriter writer = new DetectionWriter(out, images, lines, err);
      AtomicInteger next = new AtomicInteger();
      Runnable worker =
          () -> {
            try (Predictor<Image, DetectedObjects> predictor = model.newPredictor()) {
              for (int i = next.getAndIncrement(); i < batches.size(); i = next.getAndIncrement()) {
                process(predictor, batches.get(i), writer);
              }
            }
          };
      runOn(Math.min(threads, batches.size()), worker);
      return writer.summary();
    } catch (ModelNotFoundException | MalformedModelException e) {
      throw new IOException("cannot load " + modelDir + ": " + e.getMessage(), e);
    }
  }

  /** Runs a worker on this thread, or on {@code threads} threads at once. */
  private static void runOn(int threads, Runnable worker) throws IOException {
    if (threads <= 1) {
      worker.run();
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        running.add(pool.submit(worker));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** Decodes a batch of files, predicts and writes; a file that fails is reported alone. */
  private static void process(
      Predictor<Image, DetectedObjects> predictor, List<Input> batch, DetectionWriter writer) {
    List<Input> decodedInputs = new ArrayList<>();
    List<Image> decoded = new ArrayList<>();
    for (Input input : batch) {
      try {
        decoded.add(ImageFactory.getInstance().fromImage(ImageFiles.read(input.file())));
        decodedInputs.add(input);
      } catch (RuntimeException e) {
        writer.failed(input, e);
      }
    }
    predict(predictor, decodedInputs, decoded, writer);
  }

  /** Predicts a batch; if it fails, each image alone, so that one bad image fails alone. */
  private static void predict(
      Predictor<Image, DetectedObjects> predictor,
      List<Input> inputs,
      List<Image> images,
      DetectionWriter writer) {
    if (images.isEmpty()) {
      return;
    }
    List<DetectedObjects> results;
    try {
      results = predictor.batchPredict(images);
    } catch (TranslateException | RuntimeException e) {
      if (images.size() == 1) {
        writer.failed(inputs.get(0), e);
        return;
      }
      for (int i = 0; i < images.size(); i++) {
        predict(predictor, inputs.subList(i, i + 1), images.subList(i, i + 1), writer);
      }
      return;
    }
    for (int i = 0; i < images.size(); i++) {
      writer.write(inputs.get(i), images.get(i), results.get(i));
    }
  }

  /** Makes output names unique: a repeated name gets {@code -2}, {@code -3}, ... appended. */
  private static List<Input> uniqueNames(List<Input> images) {
    Map<String, Integer> seen = new HashMap<>();
    List<Input> out = new ArrayList<>(images.size());
    for (Input input : images) {
      String key = input.name().toLowerCase(Locale.ROOT); // case-insensitive file systems
      int n = seen.merge(key, 1, Integer::sum);
      out.add(n == 1 ? input : new Input(input.file(), input.name() + "-" + n));
    }
    return out;
  }
}
