package dev.jdetect.examples;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.inference.ModelCard;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.ssd.D2lLoss;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.TinySsd;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.DetectionEvaluation;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.ProgressReporter;
import dev.jdetect.train.Seeds;
import dev.jdetect.train.TrainingHistory;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.CsvReader;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.eval.TinySsdMetrics;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Trains D2L's TinySSD on a generated banana-like data set and reports VOC mAP@0.5 on a held-out
 * split: the "run the main job" command of the README.
 *
 * <ol>
 *   <li>generates {@code --images} 256x256 images with one banana each ({@link
 *       SyntheticDataGenerator}) and writes them in the D2L CSV layout, then reads them back with
 *       {@link CsvReader};
 *   <li>keeps the last {@code --val-fraction} for evaluation, trains on the rest at {@code --input}
 *       x {@code --input} pixels (images resized once and cached; random horizontal flips) with SGD
 *       + momentum, a linear warm-up and a cosine schedule. The network is D2L's; the loss is SSD's
 *       MultiBox loss by default ({@code --loss multibox}: hard-negative mining, terms normalised
 *       by the positives), which localises far sooner than D2L's loss ({@code --loss d2l}: means
 *       over all anchors, where box terms are diluted by the background);
 *   <li>evaluates VOC mAP@0.5 (area under the PR curve) and D2L's metrics (anchor class error,
 *       masked bbox MAE) on the held-out images after every epoch, writes {@code metrics.csv} /
 *       {@code metrics.png}, saves the model directory ({@code model/}) and draws the predictions
 *       on a few held-out images ({@code predictions/}).
 * </ol>
 *
 * <p>Run: {@code mvn -pl examples exec:java -Dexec.args="--out runs/tiny-ssd"}; {@code --resume}
 * continues an interrupted run from its newest checkpoint.
 */
@Command(
    name = "TrainTinySsd",
    description = {
      "Generates a banana-like data set, trains D2L's TinySSD on it and reports VOC mAP@0.5 on"
          + " held-out images after every epoch.",
      "Writes <out>/metrics.csv and .png, a checkpoint per epoch, the model directory <out>/model"
          + " (for Detect) and drawn predictions."
    })
public final class TrainTinySsd implements Callable<Integer> {

  private static final String TINY_SSD = "tiny-ssd";

  /** The settings of a run. */
  public static final class Settings {
    /** Output folder. */
    public Path out = Path.of("runs", "tiny-ssd");

    /** Number of generated images (train + held-out). */
    public int images = 1000;

    /** Fraction of images held out for evaluation. */
    public double valFraction = 0.2;

    /** Side of the square network input. */
    public int input = 128;

    /** Training epochs. */
    public int epochs = 12;

    /** Batch size. */
    public int batchSize = 8;

    /** Base learning rate. */
    public double lr = 0.01;

    /** The training loss: D2L's (masked L1 + CE over all anchors) or SSD's MultiBox loss. */
    public TinySsd.LossType loss = TinySsd.LossType.MULTIBOX;

    /** Maximum global gradient norm (0: no clipping). */
    public double clipNorm = 10;

    /** Seed of data generation and training. */
    public long seed = 1;

    /** Held-out images to draw predictions on. */
    public int draw = 4;

    /** Progress display. */
    public ProgressReporter.Mode progress = ProgressReporter.Mode.AUTO;

    /** Continue from the newest checkpoint in {@code out/checkpoints}, if there is one. */
    public boolean resume;

    /** Where to print. */
    public PrintStream log = System.out;
  }

  /** The outcome of a run. */
  public static final class Result {
    /** VOC mAP@0.5 on the held-out images after the last epoch. */
    public double map;

    /** Per-epoch history (losses, mAP). */
    public TrainingHistory history;

    /** Wall time of the whole run in seconds (generation included). */
    public double seconds;

    /** The saved model directory. */
    public Path modelDir;
  }

  @Mixin TrainingOptions training = new TrainingOptions("runs/tiny-ssd", 128, 12, 0.01);

  @Option(
      names = "--images",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Generated banana images (train + held-out).")
  int images = 1000;

  @Option(
      names = "--val-fraction",
      paramLabel = "F",
      converter = Values.Fraction.class,
      description = "Fraction of the images held out for evaluation.")
  double valFraction = 0.2;

  @Option(
      names = "--loss",
      paramLabel = "NAME",
      description = "Training loss: d2l (D2L's, over all anchors) or multibox (SSD's).")
  TinySsd.LossType loss = TinySsd.LossType.MULTIBOX;

  @Option(
      names = "--quick",
      description = "A short run: 240 images, 4 epochs, 96-pixel input (unless given).")
  boolean quick;

  @Spec CommandSpec spec;

  private TrainTinySsd() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(TrainTinySsd.class, args);
  }

  @Override
  public Integer call() throws IOException {
    Settings s = new Settings();
    s.out = training.out;
    s.images = quick && !given("--images") ? 240 : images;
    s.valFraction = valFraction;
    s.input = quick && !given("--input") ? 96 : training.input;
    s.epochs = quick && !given("--epochs") ? 4 : training.epochs;
    s.batchSize = training.batch;
    s.lr = training.lr;
    s.seed = training.seed;
    s.loss = loss;
    s.resume = training.resume;
    try {
      heldOut(s);
    } catch (IllegalArgumentException e) {
      throw Cli.badUsage(spec, e.getMessage());
    }
    Result r = run(s);
    s.log.printf(
        Locale.ROOT,
        "held-out VOC mAP@0.5 = %.4f after %d epochs, %.1f s in total; model saved to %s%n",
        r.map,
        s.epochs,
        r.seconds,
        r.modelDir);
    return 0;
  }

  private boolean given(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  /**
   * D2L's training metrics of TinySSD on a set of images: the anchor class error ({@code 1 -}
   * accuracy of the arg-max class over all anchors, against D2L's anchor labels) and the mean
   * absolute error of the masked box offsets. D2L reports 3.3e-3 and 3.1e-3 on its training set
   * after 20 epochs at 256 pixels.
   *
   * @param model the model
   * @param images the images
   * @param resize the pre-processing
   * @return {@code {class error, bbox MAE}}
   */
  static double[] d2lMetrics(Ssd model, AnnotationSet images, Resize resize) {
    TinySsdMetrics metrics = new TinySsdMetrics();
    ai.djl.Device device = model.getParameters().valueAt(0).getArray().getDevice();
    try (NDManager m = NDManager.newBaseManager(device)) {
      ParameterStore ps = new ParameterStore(m, false);
      for (ImageAnnotation a : images.getImages()) {
        try (NDManager scope = m.newSubManager()) {
          DetectionSample s = resize.apply(DetectionSample.load(scope, a, false, false), null);
          NDList out = model.forwardHeads(ps, s.getImage().expandDims(0), false);
          D2lLoss.AnchorLabels l =
              new D2lLoss(0.5f)
                  .label(out.get(2), List.of(new ImageTargets(s.getBoxes(), s.getLabels())));
          metrics.update(
              out.get(0),
              l.classes(),
              out.get(1).reshape(1, -1),
              l.offsets().reshape(1, -1),
              l.mask().reshape(1, -1));
          out.attach(scope);
        }
      }
    }
    return new double[] {metrics.getClassError(), metrics.getBboxMae()};
  }

  /** The number of held-out images; throws if the split leaves no training or no held-out one. */
  private static int heldOut(Settings s) {
    int numVal = (int) Math.round(s.images * s.valFraction);
    if (numVal < 1 || numVal >= s.images) {
      throw new IllegalArgumentException(
          "--val-fraction "
              + s.valFraction
              + " of "
              + s.images
              + " images leaves no training or no held-out images");
    }
    return numVal;
  }

  /**
   * Generates 256x256 images with one banana each into a folder in D2L's CSV layout ({@code
   * label.csv}) and reads them back.
   *
   * @param dataDir the folder
   * @param images the number of images
   * @param seed the seed of the generation
   * @return the images and their annotations
   * @throws IOException if the files cannot be written
   */
  static AnnotationSet bananas(Path dataDir, int images, long seed) throws IOException {
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.BANANA)
            .optSeed(seed)
            .optNumImages(images)
            .optImageSize(256)
            .build();
    generator.writeCsv(dataDir);
    return readBananas(dataDir);
  }

  /**
   * Reads the images {@link #bananas} wrote.
   *
   * @param dataDir the folder
   * @return the images and their annotations
   */
  static AnnotationSet readBananas(Path dataDir) {
    return CsvReader.builder()
        .setCsvFile(dataDir.resolve("label.csv"))
        .setClasses(List.of("banana"))
        .build()
        .read();
  }

  /**
   * The saved-model description of a TinySSD trained here: score threshold 0.3.
   *
   * @param classes the class names
   * @param loss the loss option ({@code multibox} or {@code d2l})
   * @param input the side of the square input
   * @return the description
   */
  static ModelDescription description(List<String> classes, String loss, int input) {
    return ModelDescription.builder()
        .setArchitecture(TINY_SSD)
        .setClasses(classes)
        .optOption("loss", loss)
        .optInputSize(input, input)
        .optScoreThreshold(0.3f)
        .build();
  }

  /**
   * Runs the example with the given settings.
   *
   * @param s the settings
   * @return the result
   * @throws IOException if files cannot be written
   */
  public static Result run(Settings s) throws IOException {
    long start = System.nanoTime();
    int numVal = heldOut(s);
    AnnotationSet all = bananas(s.out.resolve("data"), s.images, s.seed);
    List<ImageAnnotation> images = all.getImages();
    int numTrain = images.size() - numVal;
    AnnotationSet train = new AnnotationSet(all.getClassNames(), images.subList(0, numTrain));
    AnnotationSet val =
        new AnnotationSet(all.getClassNames(), images.subList(numTrain, images.size()));
    s.log.printf(
        Locale.ROOT,
        "generated %d banana images in %.1f s: %d for training, %d held out; input %dx%d%n",
        images.size(),
        (System.nanoTime() - start) / 1e9,
        numTrain,
        numVal,
        s.input,
        s.input);

    Resize resize = new Resize(s.input, s.input);
    SampleData data =
        SampleData.builder()
            .setAnnotations(train)
            .optPreprocess(resize)
            .optAugmentation(new HorizontalFlip())
            .build();
    Result result = new Result();
    try (NDManager manager = NDManager.newBaseManager()) {
      ModelConfig config =
          ModelConfig.of(TINY_SSD, 1)
              .withInputSize(s.input, s.input)
              .withOption("loss", s.loss.name().toLowerCase(Locale.ROOT));
      Ssd model = (Ssd) ModelZoo.builtin().create(config);
      Seeds.initialize(model, manager, s.seed, DataType.FLOAT32, new Shape(1, 3, s.input, s.input));
      int stepsPerEpoch = (numTrain + s.batchSize - 1) / s.batchSize;
      LrSchedule schedule =
          LrSchedule.builder()
              .setBaseLr(s.lr)
              .optWarmup(Math.min(stepsPerEpoch, 50), 0.1)
              .optCosine(s.epochs, s.lr * 0.01)
              .build();
      try (DetectionTrainer trainer =
          TrainingOptions.trainer(s.out, s.epochs, s.batchSize, s.seed, s.resume)
              .setModel(model)
              .optOptimizer(ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(5e-4f).build())
              .optSchedule(schedule)
              .optGradientClipNorm(s.clipNorm)
              .optEvaluator(
                  (m, epoch) -> {
                    Map<String, Double> metrics = new LinkedHashMap<>();
                    metrics.put(
                        "mAP@0.5",
                        DetectionEvaluation.voc(m, val, resize, 50, 0.5, false).getMap());
                    double[] d2l = d2lMetrics(model, val, resize);
                    metrics.put("class_err", d2l[0]);
                    metrics.put("bbox_mae", d2l[1]);
                    return metrics;
                  })
              .optProgress(s.log, s.progress)
              .build()) {
        result.history = trainer.fit(data);
      }
      result.map = result.history.last().getMetrics().get("mAP@0.5");

      ModelDescription description =
          ModelDescription.builder()
              .setArchitecture(TINY_SSD)
              .setClasses(all.getClassNames())
              .optOption("loss", config.option("loss"))
              .optInputSize(s.input, s.input)
              .optScoreThreshold(0.3f)
              .optCard(
                  new ModelCard(
                      "generated banana images, " + train.getImages().size() + " for training",
                      result.history.getEpochs().size(),
                      "VOC mAP@0.5 on the validation split",
                      result.map,
                      null))
              .build();
      result.modelDir = s.out.resolve("model");
      SavedPredictions.save(
          model,
          description,
          result.modelDir,
          val.getImages(),
          s.draw,
          s.out.resolve("predictions"));
    }
    result.seconds = (System.nanoTime() - start) / 1e9;
    return result;
  }
}
