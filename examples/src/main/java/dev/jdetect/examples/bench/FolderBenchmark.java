package dev.jdetect.examples.bench;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import com.google.gson.JsonObject;
import dev.jdetect.examples.DetectionJson;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.zoo.CocoCategories;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.data.ImageFiles;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Folder throughput: images per second for a folder of JPEGs, the whole loop a user runs (decode,
 * preprocess, forward, post-processing, one JSON file per image), through a {@code ZooModel} loaded
 * by DJL's {@code Criteria} with 1 and with 2 predictor threads, against torchvision running the
 * same loop (PIL decode, {@code model([image])}, JSON) with the same weights: the peer {@code
 * src/bench/folder_bench.py} reads jdetect's {@code model.safetensors}. Models: TinySSD (jdetect
 * only; torchvision has none), SSD300-VGG16 and the MobileNetV2 Faster R-CNN, random weights, 90
 * COCO classes. Both sides use {@code --threads} intra-op threads per predictor.
 *
 * <p>Memory, per model: the peak resident set of the process (Linux {@code VmHWM}) over the timed
 * passes against the peer process's peak ({@code ru_maxrss}), and what a second predictor of the
 * same {@code ZooModel} adds to the resident set against what a second, separately loaded model
 * adds. The JVM's peak includes every model timed before in the same run: time one model per run
 * ({@code --models NAME}) for a peak that compares like with like.
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.FolderBenchmark \
 *     -Dexec.args="--images 32 --warmup 1 --iters 3"
 * </pre>
 */
@Command(
    name = "FolderBenchmark",
    description = {
      "Images per second over a folder of JPEGs (decode, predict, JSON per image) with 1 and 2"
          + " predictor threads, against torchvision's same loop with the same weights."
    })
public final class FolderBenchmark implements Callable<Integer> {

  private static final List<String> MODELS =
      List.of("tiny-ssd", "ssd300-vgg16", "faster-rcnn-mobilenetv2");

  @Mixin TimingOptions timing = new TimingOptions(1, 3);

  @Mixin PeerOptions peer = new PeerOptions("src/bench/folder_bench.py");

  @Option(
      names = "--models",
      paramLabel = "NAME",
      split = ",",
      description = "Models to time: tiny-ssd, ssd300-vgg16, faster-rcnn-mobilenetv2.")
  List<String> models = MODELS;

  @Option(
      names = "--images",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "JPEGs in the folder (640x480, generated).")
  int images = 32;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description = "Keep the folder, models and outputs here (default: a temporary folder).")
  Path workDir;

  private FolderBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(FolderBenchmark.class, args);
  }

  @Override
  public Integer call() throws Exception {
    for (String m : models) {
      if (!MODELS.contains(m)) {
        throw new IllegalArgumentException("--models: unknown " + m + ", known: " + MODELS);
      }
    }
    timing.applyThreads();
    try (PythonPeer python = PythonPeer.open(peer, workDir)) {
      String problem = peer.reference() ? python.problem() : null;
      if (problem != null) {
        throw new IllegalStateException(problem);
      }
      Path folder = python.dir().resolve("images");
      List<Path> files = writePhotos(folder, images);
      List<String> memoryRows = new ArrayList<>();
      System.out.printf(
          Locale.ROOT,
          "%-24s %14s %14s %14s %8s %12s %12s%n",
          "images/s",
          "jdetect 1 thr",
          "jdetect 2 thr",
          "torchvision",
          "ratio 2",
          "peak MB ours",
          "peak MB tv");
      for (String name : models) {
        Path modelDir = python.dir().resolve(name);
        save(name, modelDir);
        ProcessStats.resetPeak();
        double one = rate(modelDir, files, 1, python.dir().resolve("out-" + name));
        double two = rate(modelDir, files, 2, python.dir().resolve("out-" + name));
        double ourPeak = ProcessStats.now().peakRssMb();
        memoryRows.add(name + " " + sharing(modelDir, files.get(0)));
        double theirs = Double.NaN;
        double theirPeak = Double.NaN;
        if (peer.reference() && !name.equals("tiny-ssd")) {
          List<String> args = new ArrayList<>(timing.peerArgs());
          args.addAll(
              List.of(
                  "--model",
                  name,
                  "--weights",
                  modelDir.resolve(ModelDescription.WEIGHTS_FILE).toString(),
                  "--images",
                  folder.toString()));
          JsonObject answer = python.call(args);
          theirs = answer.get("images_per_s").getAsDouble();
          theirPeak = answer.get("peak_rss_mb").getAsDouble();
        }
        System.out.printf(
            Locale.ROOT,
            "%-24s %14.2f %14.2f %14s %8s %12.0f %12s%n",
            name,
            one,
            two,
            Double.isNaN(theirs) ? "-" : String.format(Locale.ROOT, "%.2f", theirs),
            Double.isNaN(theirs) ? "-" : String.format(Locale.ROOT, "%.2fx", two / theirs),
            ourPeak,
            Double.isNaN(theirPeak) ? "-" : String.format(Locale.ROOT, "%.0f", theirPeak));
      }
      System.out.printf(
          Locale.ROOT,
          "%nresident set added (MB): weights file, a 2nd predictor of one ZooModel,"
              + " a 2nd separately loaded model%n");
      memoryRows.forEach(System.out::println);
    }
    return 0;
  }

  /**
   * What a second predictor of one {@code ZooModel} adds to the resident set, against what a second
   * model loaded on its own adds, each after one prediction; the weights file's size for scale.
   */
  private static String sharing(Path modelDir, Path photo) throws Exception {
    Image image = ImageFactory.getInstance().fromImage(ImageFiles.read(photo));
    double weights = Files.size(modelDir.resolve(ModelDescription.WEIGHTS_FILE)) / 1048576.0;
    try (ZooModel<Image, DetectedObjects> first = criteria(modelDir).loadModel();
        Predictor<Image, DetectedObjects> a = first.newPredictor()) {
      a.predict(image);
      a.predict(image);
      double oneModel = ProcessStats.now().rssMb();
      try (Predictor<Image, DetectedObjects> b = first.newPredictor()) {
        b.predict(image);
        b.predict(image);
        double twoPredictors = ProcessStats.now().rssMb();
        try (ZooModel<Image, DetectedObjects> second = criteria(modelDir).loadModel();
            Predictor<Image, DetectedObjects> c = second.newPredictor()) {
          c.predict(image);
          c.predict(image);
          double twoModels = ProcessStats.now().rssMb();
          return String.format(
              Locale.ROOT,
              "%.0f %+.0f %+.0f",
              weights,
              twoPredictors - oneModel,
              twoModels - twoPredictors);
        }
      }
    }
  }

  private static Criteria<Image, DetectedObjects> criteria(Path modelDir) {
    return Criteria.builder()
        .setTypes(Image.class, DetectedObjects.class)
        .optModelPath(modelDir)
        .optEngine("PyTorch")
        .optTranslatorFactory(new DetectionTranslatorFactory())
        .build();
  }

  /** Writes {@code n} 640x480 JPEGs of random shapes. */
  private static List<Path> writePhotos(Path folder, int n) throws IOException {
    Files.createDirectories(folder);
    Random random = new Random(1);
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = img.createGraphics();
      g.setColor(new Color(random.nextInt(0xffffff)));
      g.fillRect(0, 0, 640, 480);
      for (int k = 0; k < 6; k++) {
        g.setColor(new Color(random.nextInt(0xffffff)));
        g.fillOval(
            random.nextInt(560),
            random.nextInt(400),
            40 + random.nextInt(200),
            40 + random.nextInt(200));
      }
      g.dispose();
      Path file = folder.resolve(String.format(Locale.ROOT, "photo%03d.jpg", i));
      ImageIO.write(img, "jpg", file.toFile());
      files.add(file);
    }
    return files;
  }

  /** Saves the zoo model with random weights and the 90 COCO category names. */
  private static void save(String name, Path dir) throws IOException {
    List<String> classes = CocoCategories.names().subList(1, CocoCategories.names().size());
    ModelConfig config = ModelConfig.of(name, classes.size());
    int side = name.equals("tiny-ssd") ? 256 : 300;
    if (name.equals("tiny-ssd")) {
      config = config.withInputSize(side, side);
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = ModelZoo.builtin().create(config);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, side, side));
      ModelDescription.Builder d =
          ModelDescription.builder().setArchitecture(name).setClasses(classes);
      if (config.hasInputSize()) {
        d.optInputSize(side, side);
      }
      SavedModel.save(model, d.build(), dir);
    }
  }

  /**
   * The median images per second of timed passes over the folder with {@code threads} predictors.
   */
  private double rate(Path modelDir, List<Path> files, int threads, Path out) throws Exception {
    Files.createDirectories(out);
    try (ZooModel<Image, DetectedObjects> model = criteria(modelDir).loadModel()) {
      for (int w = 0; w < timing.warmup; w++) {
        pass(model, files.subList(0, Math.min(2, files.size())), threads, out);
      }
      double[] seconds = new double[timing.iters];
      for (int i = 0; i < timing.iters; i++) {
        long start = System.nanoTime();
        pass(model, files, threads, out);
        seconds[i] = (System.nanoTime() - start) / 1e9;
      }
      Arrays.sort(seconds);
      return files.size() / seconds[seconds.length / 2];
    }
  }

  /** One pass over the folder: each predictor thread takes the next file until none is left. */
  private static void pass(
      ZooModel<Image, DetectedObjects> model, List<Path> files, int threads, Path out)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    Callable<Void> worker =
        () -> {
          try (Predictor<Image, DetectedObjects> predictor = model.newPredictor()) {
            for (int i = next.getAndIncrement(); i < files.size(); i = next.getAndIncrement()) {
              detect(predictor, files.get(i), out);
            }
          }
          return null;
        };
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Void>> running = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        running.add(pool.submit(worker));
      }
      for (Future<Void> f : running) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void detect(Predictor<Image, DetectedObjects> predictor, Path file, Path out)
      throws IOException, TranslateException {
    Image image = ImageFactory.getInstance().fromImage(ImageFiles.read(file));
    DetectedObjects found = predictor.predict(image);
    Map<String, Object> json = DetectionJson.of(file, image.getWidth(), image.getHeight(), found);
    Files.writeString(
        out.resolve(file.getFileName() + ".json"),
        DetectionJson.line(json),
        StandardCharsets.UTF_8);
  }
}
