package dev.jdetect.examples.bench;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Targets;
import dev.jdetect.models.inference.ImageTensors;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.ZooModels;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.ProgressReporter;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ImageFiles;
import dev.jdetect.train.data.ObjectAnnotation;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.data.TrainingData;
import dev.jdetect.train.optim.ResumableOptimizer;
import dev.jdetect.train.optim.ResumableSgd;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Checks that native memory stays flat over a long run (issue 5, "Reliability"): trains a model for
 * {@code --steps} steps through {@link DetectionTrainer}, then runs {@code --predictions}
 * single-image predictions through a DJL {@link Predictor}.
 *
 * <p>Models ({@code --model}):
 *
 * <ul>
 *   <li>{@code tiny-ssd} (default; {@code tinyssd} is read as it): D2L's TinySSD on generated
 *       banana images made at the input size (default 64) and held as Java arrays;
 *   <li>{@code ssd-small} and {@code faster-rcnn-small} from the {@link ModelZoo} on a generated
 *       3-class shapes set, written as a VOC directory of 256x256 JPEGs into a temporary folder
 *       (deleted at the end) and read the way {@code TrainSsd} and {@code TrainFasterRcnn} read it:
 *       {@link SampleData} with a {@link Resize} to the input size (default 128) and a {@link
 *       HorizontalFlip}. The detector is given the 256x256 images and resizes them itself.
 * </ul>
 *
 * <p>Every {@code --train-every} steps (at the end of a trainer epoch, so that no step is in
 * flight) and every {@code --predict-every} predictions it collects garbage and records
 *
 * <ul>
 *   <li>the live NDArrays of the whole process: {@code getManagedArrays().size()} of the engine's
 *       root manager, the parent of every base manager (model parameters, optimizer state, the
 *       detector's manager and all their sub-managers);
 *   <li>the resident set size ({@code VmRSS} of {@code /proc/self/status}), the Java heap in use
 *       (and committed), and RSS minus heap in use, an estimate of the native (off-heap) memory.
 *       Part of the committed heap is resident too, so a change of the committed heap shows up in
 *       RSS.
 * </ul>
 *
 * <p>The first sample of each phase is the warm-up baseline (the optimizer creates its momentum
 * buffers in the first step). The run passes when no later sample of a phase has more live arrays
 * than that baseline; the exit code is 1 otherwise. RSS growth is reported from the second sample
 * of each phase to its last (allocator caches settle during the first interval).
 *
 * <p>From the repository root (the modules' classes come first: {@code dependency:build-classpath}
 * lists the jdetect jars installed in the local repository, which may be older):
 *
 * <pre>
 * mvn -B -q -o -pl examples -am compile -Dspotless.check.skip=true
 * mvn -B -q -o -pl examples dependency:build-classpath -Dmdep.outputFile=/tmp/jdetect-cp.txt
 * CP=examples/target/classes:detection-train/target/classes:detection-models/target/classes
 * CP=$CP:detection-core/target/classes:$(cat /tmp/jdetect-cp.txt)
 * java -Dai.djl.offline=true -cp $CP dev.jdetect.examples.bench.MemorySoak
 * java -Dai.djl.offline=true -cp $CP dev.jdetect.examples.bench.MemorySoak \
 *     --model ssd-small --steps 500 --train-every 50 --predictions 5000 --predict-every 500
 * java -Dai.djl.offline=true -cp $CP dev.jdetect.examples.bench.MemorySoak \
 *     --model faster-rcnn-small --steps 300 --train-every 30 --predictions 2000 --predict-every 200
 * </pre>
 *
 * <p>On two busy cores expect roughly 10, 20 and 30 minutes for these three runs (Faster R-CNN
 * predicts about 15 times slower than the SSDs); a short check of any model: {@code --steps 40
 * --train-every 10 --predictions 200 --predict-every 50}.
 */
@Command(
    name = "MemorySoak",
    description = {
      "Trains a model through DetectionTrainer, then predicts through a Predictor, and samples live"
          + " NDArrays and process RSS to show that native memory stays flat.",
      "Exit code 1 if live arrays grow after the first sample of a phase."
    })
public final class MemorySoak implements Callable<Integer> {

  private static final String TINY_SSD = "tiny-ssd";

  private static final String SSD_SMALL = "ssd-small";

  /** Side of the generated shapes images, as in {@code TrainSsd} and {@code TrainFasterRcnn}. */
  private static final int SHAPES_SIZE = 256;

  private static final int SHAPES_CLASSES = 3;

  private static final double MB = 1024.0 * 1024.0;

  @Mixin Options o = new Options();

  private MemorySoak() {}

  /** Command-line settings. */
  static final class Options {
    @Option(
        names = "--model",
        paramLabel = "NAME",
        converter = SoakModel.class,
        description =
            "tiny-ssd (generated bananas), ssd-small or faster-rcnn-small (generated 3-class"
                + " shapes, 256x256 images resized to the input).")
    String model = TINY_SSD;

    @Option(
        names = "--steps",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Training steps (rounded up to a multiple of --train-every).")
    int steps = 1000;

    @Option(
        names = "--predictions",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Single-image predictions.")
    int predictions = 10_000;

    @Option(
        names = "--input",
        paramLabel = "PIXELS",
        converter = InputSide.class,
        description = "Square input side, >= 64 (default 64 for tiny-ssd, 128 for the others).")
    Integer input;

    @Option(
        names = "--batch",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Training batch size.")
    int batch = 4;

    @Option(
        names = "--train-every",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Sample every N training steps.")
    int trainEvery = 100;

    @Option(
        names = "--predict-every",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Sample every N predictions.")
    int predictEvery = 1000;

    @Option(
        names = "--images",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Distinct generated images.")
    int images = 64;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of generation and training.")
    long seed = 1;

    @Option(
        names = "--rss-tolerance",
        paramLabel = "MB",
        converter = Values.PositiveNumber.class,
        description = "Growth of RSS minus heap still called flat.")
    double rssToleranceMb = 16;

    boolean isTinySsd() {
      return model.equals(TINY_SSD);
    }

    int input() {
      return input != null ? input : isTinySsd() ? 64 : 128;
    }
  }

  /** The models the soak runs; {@code tinyssd} is read as {@code tiny-ssd}. */
  static final class SoakModel implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String name = value.equals("tinyssd") ? TINY_SSD : value;
      if (!List.of(TINY_SSD, SSD_SMALL, "faster-rcnn-small").contains(name)) {
        throw new TypeConversionException(
            "must be tiny-ssd, ssd-small or faster-rcnn-small, got '" + value + "'");
      }
      return name;
    }
  }

  /** A square input side of at least 64 pixels. */
  static final class InputSide extends Values.AtLeast {
    InputSide() {
      super(64);
    }
  }

  /** What a run trains and predicts with; owns the temporary data folder, if any. */
  private static final class Setup implements AutoCloseable {
    final String title;
    final String dataText;
    final DetectionModel model;
    final TrainingData data;
    final List<Image> images;
    final ModelDescription description;
    final ResumableOptimizer optimizer;
    final LrSchedule schedule;
    final Path tempDir;

    Setup(
        String title,
        String dataText,
        DetectionModel model,
        TrainingData data,
        List<Image> images,
        ModelDescription description,
        ResumableOptimizer optimizer,
        LrSchedule schedule,
        Path tempDir) {
      this.title = title;
      this.dataText = dataText;
      this.model = model;
      this.data = data;
      this.images = images;
      this.description = description;
      this.optimizer = optimizer;
      this.schedule = schedule;
      this.tempDir = tempDir;
    }

    @Override
    public void close() throws IOException {
      if (tempDir != null) {
        deleteTree(tempDir);
      }
    }
  }

  /** One measurement. */
  private static final class Sample {
    final String phase;
    final long count;
    final int liveArrays;
    final double rssMb;
    final double heapMb;
    final double committedMb;

    Sample(
        String phase, long count, int liveArrays, double rssMb, double heapMb, double committedMb) {
      this.phase = phase;
      this.count = count;
      this.liveArrays = liveArrays;
      this.rssMb = rssMb;
      this.heapMb = heapMb;
      this.committedMb = committedMb;
    }

    double nativeMb() {
      return rssMb - heapMb;
    }
  }

  /**
   * Runs the soak test; the exit code is 1 if live arrays grew.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(MemorySoak.class, args);
  }

  @Override
  public Integer call() throws IOException, TranslateException {
    int input = o.input();
    PrintStream out = System.out;
    NDManager probe = NDManager.newBaseManager();
    NDManager root = probe.getParentManager();
    probe.close();

    int epochs = (o.steps + o.trainEvery - 1) / o.trainEvery;
    List<Sample> samples = new ArrayList<>();
    try (Setup setup = o.isTinySsd() ? tinySsd(o) : shapes(o, epochs)) {
      out.printf(
          Locale.ROOT,
          "MemorySoak: %s %dx%d, batch %d, %d training steps (sample every %d), %d predictions"
              + " (sample every %d), %s, %d CPUs%n",
          setup.title,
          input,
          input,
          o.batch,
          epochs * o.trainEvery,
          o.trainEvery,
          o.predictions,
          o.predictEvery,
          setup.dataText,
          Runtime.getRuntime().availableProcessors());

      long start = System.nanoTime();
      try (NDManager manager = NDManager.newBaseManager()) {
        DetectionModel model = setup.model;
        model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, input, input));
        samples.add(sample(root, "init", 0));

        try (DetectionTrainer trainer =
            DetectionTrainer.builder()
                .setModel(model)
                .optOptimizer(setup.optimizer)
                .optSchedule(setup.schedule)
                .optEpochs(epochs)
                .optBatchSize(o.batch)
                .optSeed(o.seed)
                .optGradientClipNorm(10)
                .optSkipNonFiniteGradients(5)
                .optProgress(out, ProgressReporter.Mode.OFF)
                .optEvaluator(
                    (m, epoch) -> {
                      samples.add(sample(root, "train", (long) (epoch + 1) * o.trainEvery));
                      return Map.of();
                    })
                .build()) {
          trainer.fit(setup.data);
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        samples.add(sample(root, "trainer closed", (long) epochs * o.trainEvery));

        List<Image> images = setup.images;
        long predictStart = System.nanoTime();
        long found = 0;
        try (ZooModel<Image, DetectedObjects> zoo =
                ZooModels.of(model, setup.description, Map.of());
            Predictor<Image, DetectedObjects> detector = zoo.newPredictor()) {
          for (int i = 1; i <= o.predictions; i++) {
            DetectedObjects result = detector.predict(images.get((i - 1) % images.size()));
            found += result.getNumberOfObjects();
            if (i % o.predictEvery == 0) {
              samples.add(sample(root, "predict", i));
            }
          }
        }
        double predictSeconds = (System.nanoTime() - predictStart) / 1e9;
        samples.add(sample(root, "detector closed", o.predictions));
        out.printf(
            Locale.ROOT,
            "training %.1f s (%.1f ms/step), prediction %.1f s (%.2f ms/image, %d objects found)%n",
            trainSeconds,
            trainSeconds * 1000 / (epochs * o.trainEvery),
            predictSeconds,
            predictSeconds * 1000 / Math.max(1, o.predictions),
            found);
      }
      samples.add(sample(root, "model closed", o.predictions));
    }

    out.println();
    out.printf(
        Locale.ROOT,
        "%-16s %10s %12s %10s %10s %12s %14s%n",
        "phase",
        "count",
        "live arrays",
        "RSS MB",
        "heap MB",
        "committed MB",
        "RSS-heap MB");
    for (Sample s : samples) {
      out.printf(
          Locale.ROOT,
          "%-16s %10d %12d %10.1f %10.1f %12.1f %14.1f%n",
          s.phase,
          s.count,
          s.liveArrays,
          s.rssMb,
          s.heapMb,
          s.committedMb,
          s.nativeMb());
    }
    out.println();
    boolean grew = false;
    grew |= verdict(out, "training", "steps", phase(samples, "train"), o.rssToleranceMb);
    grew |= verdict(out, "prediction", "predictions", phase(samples, "predict"), o.rssToleranceMb);
    out.println(
        grew
            ? "VERDICT: FAIL, live arrays grew after warm-up"
            : "VERDICT: PASS, live arrays constant after warm-up in both phases");
    return grew ? 1 : 0;
  }

  /** TinySSD (1 class) on banana images generated at the input size, held as Java arrays. */
  private static Setup tinySsd(Options o) {
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.BANANA)
            .optSeed(o.seed)
            .optNumImages(o.images)
            .optImageSize(o.input())
            .build();
    List<SyntheticDataGenerator.SyntheticImage> generated = new ArrayList<>(o.images);
    for (int i = 0; i < o.images; i++) {
      generated.add(generator.generate(i));
    }
    List<Image> images = new ArrayList<>(generated.size());
    ImageFactory factory = ImageFactory.getInstance();
    for (SyntheticDataGenerator.SyntheticImage g : generated) {
      images.add(factory.fromImage(g.getImage()));
    }
    ModelDescription description =
        ModelDescription.builder()
            .setArchitecture("tiny-ssd")
            .setClasses(generator.getClassNames())
            .optInputSize(o.input(), o.input())
            .optScoreThreshold(0.3f)
            .build();
    return new Setup(
        "TinySSD",
        o.images + " generated banana images",
        ModelZoo.builtin().create(ModelConfig.of(TINY_SSD, 1).withInputSize(o.input(), o.input())),
        new BananaData(generated, o.input(), o.batch * o.trainEvery),
        images,
        description,
        ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(5e-4f).build(),
        LrSchedule.constant(0.01),
        null);
  }

  /**
   * {@code ssd-small} or {@code faster-rcnn-small} on a generated shapes set written as a VOC
   * directory, loaded like {@code TrainSsd} / {@code TrainFasterRcnn} load it.
   */
  private static Setup shapes(Options o, int epochs) throws IOException {
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(o.seed)
            .optNumImages(o.images)
            .optNumClasses(SHAPES_CLASSES)
            .optImageSize(SHAPES_SIZE)
            .build();
    Path dir = Files.createTempDirectory("jdetect-soak-");
    try {
      AnnotationSet set = generator.writeVoc(dir);
      int numClasses = set.getNumClasses();
      String type = o.model;
      DetectionModel model =
          ModelZoo.builtin()
              .create(ModelConfig.of(type, numClasses).withInputSize(o.input(), o.input()));
      boolean ssd = type.equals(SSD_SMALL);
      String title = (ssd ? "SSD (" : "Faster R-CNN (") + type + ")";
      double lr = ssd ? 0.02 : 0.01;
      SampleData samples =
          SampleData.builder()
              .setAnnotations(set)
              .optPreprocess(new Resize(o.input(), o.input()))
              .optAugmentation(new HorizontalFlip())
              .build();
      List<Image> images = new ArrayList<>(set.getImages().size());
      ImageFactory factory = ImageFactory.getInstance();
      for (ImageAnnotation a : set.getImages()) {
        images.add(factory.fromImage(ImageFiles.read(a.getFile())));
      }
      ModelDescription description =
          ModelDescription.builder()
              .setArchitecture(type)
              .setClasses(set.getClassNames())
              .optInputSize(o.input(), o.input())
              .optScoreThreshold(0.3f)
              .build();
      LrSchedule schedule =
          LrSchedule.builder()
              .setBaseLr(lr)
              .optWarmup(Math.min(o.trainEvery, 500), 0.001)
              .optCosine(epochs, lr * 0.01)
              .build();
      return new Setup(
          title,
          String.format(
              Locale.ROOT,
              "%d generated %dx%d shapes images (%d classes) resized to the input",
              o.images,
              SHAPES_SIZE,
              SHAPES_SIZE,
              numClasses),
          model,
          new Cycled(samples, o.batch * o.trainEvery),
          images,
          description,
          ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(1e-4f).build(),
          schedule,
          dir);
    } catch (IOException | RuntimeException e) {
      deleteTree(dir);
      throw e;
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }

  /**
   * Presents {@code size} samples cycling over a smaller source, so that one trainer epoch is
   * {@code --train-every} steps whatever the number of images.
   */
  private static final class Cycled implements TrainingData {
    private final TrainingData source;
    private final int size;

    Cycled(TrainingData source, int size) {
      this.source = source;
      this.size = size;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public TrainingBatch batch(NDManager manager, int[] indices, Random random) {
      int[] mapped = new int[indices.length];
      for (int i = 0; i < indices.length; i++) {
        mapped[i] = indices[i] % source.size();
      }
      return source.batch(manager, mapped, random);
    }
  }

  private static List<Sample> phase(List<Sample> samples, String name) {
    List<Sample> out = new ArrayList<>();
    for (Sample s : samples) {
      if (s.phase.equals(name)) {
        out.add(s);
      }
    }
    return out;
  }

  /** Prints one phase's verdict line; returns whether its live arrays grew. */
  private static boolean verdict(
      PrintStream out, String phase, String unit, List<Sample> s, double toleranceMb) {
    if (s.isEmpty()) {
      out.println(phase + ": no samples");
      return false;
    }
    int base = s.get(0).liveArrays;
    int max = base;
    for (Sample x : s) {
      max = Math.max(max, x.liveArrays);
    }
    boolean grew = max > base;
    Sample second = s.get(Math.min(1, s.size() - 1));
    Sample last = s.get(s.size() - 1);
    double rssGrowth = last.rssMb - second.rssMb;
    double nativeGrowth = last.nativeMb() - second.nativeMb();
    long span = last.count - second.count;
    // only growth counts: a shrinking RSS (the allocator giving pages back) is no leak
    boolean rssFlat = nativeGrowth <= toleranceMb;
    out.printf(
        Locale.ROOT,
        "%s: live arrays %s (%d after warm-up, max %d); RSS %+.1f MB, RSS-heap %+.1f MB"
            + " from %s %d to %d (%d %s) -> %s (tolerance %.0f MB)%n",
        phase,
        grew ? "GREW" : "constant",
        base,
        max,
        rssGrowth,
        nativeGrowth,
        unit,
        second.count,
        last.count,
        span,
        unit,
        rssFlat ? "no growth" : "GREW",
        toleranceMb);
    return grew;
  }

  private static Sample sample(NDManager root, String phase, long count) {
    System.gc();
    System.gc();
    Runtime rt = Runtime.getRuntime();
    double heap = (rt.totalMemory() - rt.freeMemory()) / MB;
    int live = root.getManagedArrays().size();
    return new Sample(phase, count, live, rssMb(), heap, rt.totalMemory() / MB);
  }

  private static double rssMb() {
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.trim().split("\\s+");
          return Long.parseLong(parts[1]) / 1024.0;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/self/status", e);
    }
    throw new IllegalStateException("no VmRSS line in /proc/self/status");
  }

  /** Generated images held as Java arrays; every batch is created in the step's manager. */
  private static final class BananaData implements TrainingData {
    private final float[][] chw;
    private final float[][] boxes;
    private final long[][] labels;
    private final int side;
    private final int size;

    BananaData(List<SyntheticDataGenerator.SyntheticImage> images, int side, int size) {
      this.side = side;
      this.size = size;
      int n = images.size();
      chw = new float[n][];
      boxes = new float[n][];
      labels = new long[n][];
      try (NDManager pixels = NDManager.newBaseManager()) {
        for (int i = 0; i < n; i++) {
          BufferedImage img = images.get(i).getImage();
          if (img.getWidth() != side || img.getHeight() != side) {
            throw new IllegalArgumentException(
                "image "
                    + i
                    + " is "
                    + img.getWidth()
                    + "x"
                    + img.getHeight()
                    + ", expected "
                    + side);
          }
          chw[i] = ImageTensors.toChw(pixels, img).toFloatArray();
        }
      }
      for (int i = 0; i < n; i++) {
        List<ObjectAnnotation> objects = images.get(i).getObjects();
        boxes[i] = new float[4 * objects.size()];
        labels[i] = new long[objects.size()];
        for (int j = 0; j < objects.size(); j++) {
          System.arraycopy(objects.get(j).getBox(), 0, boxes[i], 4 * j, 4);
          labels[i][j] = objects.get(j).getLabel();
        }
      }
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public TrainingBatch batch(NDManager manager, int[] indices, Random random) {
      int plane = 3 * side * side;
      float[] all = new float[indices.length * plane];
      List<NDArray> b = new ArrayList<>(indices.length);
      List<NDArray> l = new ArrayList<>(indices.length);
      for (int i = 0; i < indices.length; i++) {
        int k = indices[i] % chw.length;
        System.arraycopy(chw[k], 0, all, i * plane, plane);
        b.add(manager.create(boxes[k], new Shape(labels[k].length, 4)));
        l.add(manager.create(labels[k]));
      }
      NDArray images = manager.create(all, new Shape(indices.length, 3, side, side));
      NDList targets = Targets.pad(manager, b, l);
      return new TrainingBatch(images, targets);
    }
  }
}
