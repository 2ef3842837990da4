package dev.jdetect.examples;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.train.DetectionEvaluation;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.TrainingHistory;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.CocoReader;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ImageFiles;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.VocReader;
import dev.jdetect.train.eval.VocResult;
import dev.jdetect.train.inference.DetectionDrawer;
import dev.jdetect.train.inference.Detector;
import dev.jdetect.train.inference.ModelDescription;
import dev.jdetect.train.optim.ResumableAdam;
import dev.jdetect.train.optim.ResumableOptimizer;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code TrainSsd} and {@code TrainFasterRcnn} share: the data options (a VOC root, a COCO
 * annotation file, or a generated shapes set by default), the training loop with per-epoch VOC
 * mAP@0.5 on the validation split, saving the model directory and drawing a few predictions.
 */
final class DatasetTraining {

  private DatasetTraining() {}

  /** Declares the data and training options on a command line. */
  static CommandLine options(
      CommandLine cli,
      String model,
      int images,
      int input,
      int epochs,
      String optimizer,
      double lr) {
    return cli.option("out", "runs/" + model, "output folder")
        .option("model", model, "model type")
        .option("voc", null, "VOCdevkit root (e.g. VOCdevkit/VOC2007) instead of generated data")
        .option("train-split", "train", "VOC split to train on")
        .option("val-split", "val", "VOC split to evaluate on")
        .option("coco-train", null, "COCO instances_*.json to train on instead of generated data")
        .option("coco-train-images", null, "image folder of --coco-train")
        .option("coco-val", null, "COCO instances_*.json to evaluate on")
        .option("coco-val-images", null, "image folder of --coco-val")
        .option("images", "" + images, "generated shapes images (80% train, 20% validation)")
        .option("classes", "3", "classes of the generated shapes set (3..5)")
        .option("input", "" + input, "network input side (images are resized to it)")
        .option("epochs", "" + epochs, "training epochs")
        .option("batch", "8", "batch size")
        .option("lr", "" + lr, "base learning rate")
        .option("optimizer", optimizer, "sgd (momentum 0.9, wd 1e-4) or adam (wd 1e-4)")
        .option("seed", "1", "seed of generation and training")
        .flag("resume", "continue from the latest checkpoint in <out>/checkpoints")
        .flag("quick", "a short run: 60 generated images, 2 epochs");
  }

  /** The train and validation sets. */
  static AnnotationSet[] load(CommandLine cli, Path out) throws IOException {
    if (cli.get("voc") != null) {
      Path root = cli.getPath("voc");
      AnnotationSet train =
          VocReader.builder().setRoot(root).setSplit(cli.get("train-split")).build().read();
      AnnotationSet val =
          VocReader.builder().setRoot(root).setSplit(cli.get("val-split")).build().read();
      return new AnnotationSet[] {train, val};
    }
    if (cli.get("coco-train") != null) {
      if (cli.get("coco-val") == null) {
        throw new IllegalArgumentException("--coco-train needs --coco-val as well");
      }
      AnnotationSet train = coco(cli.getPath("coco-train"), cli.getPath("coco-train-images"));
      AnnotationSet val = coco(cli.getPath("coco-val"), cli.getPath("coco-val-images"));
      return new AnnotationSet[] {train, val};
    }
    int images = cli.has("quick") ? 60 : cli.getInt("images");
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(Long.parseLong(cli.get("seed")))
            .optNumImages(images)
            .optNumClasses(cli.getInt("classes"))
            .optImageSize(256)
            .optTrainFraction(0.8f)
            .build();
    Path root = out.resolve("data");
    generator.writeVoc(root);
    AnnotationSet train = VocReader.builder().setRoot(root).setSplit("train").build().read();
    AnnotationSet val = VocReader.builder().setRoot(root).setSplit("val").build().read();
    return new AnnotationSet[] {train, val};
  }

  private static AnnotationSet coco(Path json, Path images) {
    CocoReader.Builder b = CocoReader.builder().setAnnotationFile(json);
    if (images != null) {
      b.setImageDir(images);
    }
    return b.build().read();
  }

  /**
   * Trains, evaluates, saves and draws.
   *
   * @return the final validation mAP@0.5
   */
  static double run(
      CommandLine cli,
      DetectionModel model,
      String modelType,
      AnnotationSet train,
      AnnotationSet val,
      Path out)
      throws IOException {
    long start = System.nanoTime();
    int input = cli.getInt("input");
    int epochs = cli.has("quick") ? 2 : cli.getInt("epochs");
    int batch = cli.getInt("batch");
    double lr = cli.getDouble("lr");
    ResumableOptimizer optimizer =
        cli.get("optimizer").equalsIgnoreCase("adam")
            ? ResumableAdam.builder().optWeightDecay(1e-4f).build()
            : ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(1e-4f).build();
    Resize resize = new Resize(input, input);
    SampleData data =
        SampleData.builder()
            .setAnnotations(train)
            .optPreprocess(resize)
            .optAugmentation(new HorizontalFlip())
            .build();
    int steps = (train.getImages().size() + batch - 1) / batch;
    LrSchedule schedule =
        LrSchedule.builder()
            .setBaseLr(lr)
            .optWarmup(Math.min(steps * epochs / 5 + 1, 500), 0.001)
            .optCosine(epochs, lr * 0.01)
            .build();
    System.out.printf(
        Locale.ROOT,
        "%s: %d training and %d validation images, %d classes %s, input %dx%d, %s%n",
        modelType,
        train.getImages().size(),
        val.getImages().size(),
        train.getNumClasses(),
        train.getClassNames(),
        input,
        input,
        schedule);
    TrainingHistory history;
    try (DetectionTrainer trainer =
        DetectionTrainer.builder()
            .setModel(model)
            .optOptimizer(optimizer)
            .optSchedule(schedule)
            .optEpochs(epochs)
            .optBatchSize(batch)
            .optSeed(Long.parseLong(cli.get("seed")))
            .optGradientClipNorm(10)
            .optSkipNonFiniteGradients(5)
            .optOutputDir(out)
            .optListener(new MetricsPlot(out))
            .optCheckpointDir(out.resolve("checkpoints"))
            .optResume(cli.has("resume"))
            .optEvaluator(
                (m, epoch) ->
                    Map.of(
                        "mAP@0.5",
                        DetectionEvaluation.voc(m, val, resize, batch, 0.5, false).getMap()))
            .build()) {
      history = trainer.fit(data);
    }
    VocResult result = DetectionEvaluation.voc(model, val, resize, batch, 0.5, false);
    System.out.println(result.toTable(val.getClassNames()));
    ModelDescription description =
        ModelDescription.builder()
            .setModelType(modelType)
            .setClasses(train.getClassNames())
            .setInputSize(input, input)
            .setScoreThreshold(0.3f)
            .build();
    Path modelDir = out.resolve("model");
    Detector.save(model, description, modelDir);
    try (Detector detector = Detector.of(model, description)) {
      List<ImageAnnotation> images = val.getImages();
      for (int i = 0; i < Math.min(4, images.size()); i++) {
        Image image =
            ImageFactory.getInstance().fromImage(ImageFiles.read(images.get(i).getFile()));
        DetectedObjects found = detector.detect(image);
        DetectionDrawer.savePng(
            DetectionDrawer.draw(image, found),
            out.resolve("predictions").resolve(images.get(i).getId() + ".png"));
      }
    }
    System.out.printf(
        Locale.ROOT,
        "validation VOC mAP@0.5 = %.4f after %d epochs (%.1f s); model saved to %s%n",
        result.getMap(),
        history.getEpochs().size(),
        (System.nanoTime() - start) / 1e9,
        modelDir);
    return result.getMap();
  }
}
