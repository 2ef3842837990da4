package dev.jdetect.examples;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.ModelNames;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.inference.ModelCard;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.DetectionEvaluation;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.Seeds;
import dev.jdetect.train.TrainingHistory;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.eval.VocResult;
import dev.jdetect.train.optim.ResumableAdam;
import dev.jdetect.train.optim.ResumableOptimizer;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code TrainSsd} and {@code TrainFasterRcnn} share: the data options (a VOC root, a COCO
 * annotation file, or a generated shapes set by default), a model from the {@link ModelZoo} by
 * name, the training loop with per-epoch VOC mAP@0.5 on the validation split, saving the model
 * directory (under the model's zoo name, so {@code Detect} and DJL's {@code Criteria} load it) and
 * drawing a few predictions. The two mains differ only in their defaults.
 */
abstract class DatasetTraining implements Callable<Integer> {

  /** The optimisers a run can use. */
  enum OptimizerChoice {
    /** SGD with momentum 0.9 and weight decay 1e-4. */
    SGD,
    /** Adam with weight decay 1e-4. */
    ADAM
  }

  @Mixin TrainingOptions training;

  @Mixin DataOptions data = new DataOptions();

  @Option(
      names = "--model",
      paramLabel = "NAME",
      converter = ModelNames.Known.class,
      completionCandidates = ModelNames.class,
      description = "Model name, one of: ${COMPLETION-CANDIDATES}.")
  String model;

  @Option(
      names = "--model-option",
      paramLabel = "KEY=VALUE",
      description =
          "A model option for the zoo, repeatable, e.g. scratch=true (torchvision's MobileNetV3"
              + " Faster R-CNNs as built without weights) or trainableLayers=5.")
  Map<String, String> modelOptions = new LinkedHashMap<>();

  @Option(
      names = "--optimizer",
      paramLabel = "NAME",
      description = "sgd (momentum 0.9, weight decay 1e-4) or adam (weight decay 1e-4).")
  OptimizerChoice optimizer;

  @Option(names = "--quick", description = "A short run: 60 generated images, 2 epochs.")
  boolean quick;

  @Spec CommandSpec spec;

  DatasetTraining(TrainingOptions training, String model, OptimizerChoice optimizer) {
    this.training = training;
    this.model = model;
    this.optimizer = optimizer;
  }

  @Override
  public Integer call() throws IOException {
    String problem = data.problem();
    if (problem != null) {
      throw Cli.badUsage(spec, problem);
    }
    Path out = training.out;
    DataOptions.Splits sets = data.load(out, quick ? 60 : data.shapes.images, training.seed);
    int input = training.input;
    ModelConfig config =
        ModelConfig.of(model, sets.train().getNumClasses()).withInputSize(input, input);
    for (Map.Entry<String, String> option : modelOptions.entrySet()) {
      config = config.withOption(option.getKey(), option.getValue());
    }
    DetectionModel detector;
    try {
      detector = ModelZoo.builtin().create(config);
    } catch (IllegalArgumentException e) {
      // a model option the model does not take, or a value it refuses
      throw Cli.badUsage(spec, e.getMessage());
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      Seeds.initialize(
          detector, manager, training.seed, DataType.FLOAT32, new Shape(1, 3, input, input));
      run(detector, sets.train(), sets.val());
    }
    return 0;
  }

  /** Trains, evaluates, saves and draws. */
  private void run(DetectionModel net, AnnotationSet train, AnnotationSet val) throws IOException {
    long start = System.nanoTime();
    Path out = training.out;
    int input = training.input;
    int epochs = quick ? 2 : training.epochs;
    int batch = training.batch;
    double lr = training.lr;
    ResumableOptimizer opt =
        optimizer == OptimizerChoice.ADAM
            ? ResumableAdam.builder().optWeightDecay(1e-4f).build()
            : ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(1e-4f).build();
    Resize resize = new Resize(input, input);
    SampleData samples =
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
        model,
        train.getImages().size(),
        val.getImages().size(),
        train.getNumClasses(),
        train.getClassNames(),
        input,
        input,
        schedule);
    TrainingHistory history;
    try (DetectionTrainer trainer =
        TrainingOptions.trainer(out, epochs, batch, training.seed, training.resume)
            .setModel(net)
            .optOptimizer(opt)
            .optSchedule(schedule)
            .optEvaluator(
                (m, epoch) ->
                    Map.of(
                        "mAP@0.5",
                        DetectionEvaluation.voc(m, val, resize, batch, 0.5, false).getMap()))
            .build()) {
      history = trainer.fit(samples);
    }
    VocResult result = DetectionEvaluation.voc(net, val, resize, batch, 0.5, false);
    System.out.println(result.toTable(val.getClassNames()));
    ModelDescription.Builder descriptionBuilder = ModelDescription.builder();
    modelOptions.forEach(descriptionBuilder::optOption);
    ModelDescription description =
        descriptionBuilder
            .setArchitecture(model)
            .setClasses(train.getClassNames())
            .optInputSize(input, input)
            .optScoreThreshold(0.3f)
            .optCard(
                new ModelCard(
                    data.describe(train),
                    history.getEpochs().size(),
                    "VOC mAP@0.5 on the validation split",
                    result.getMap(),
                    null))
            .build();
    Path modelDir = out.resolve("model");
    SavedPredictions.save(
        net, description, modelDir, val.getImages(), 4, out.resolve("predictions"));
    System.out.printf(
        Locale.ROOT,
        "validation VOC mAP@0.5 = %.4f after %d epochs (%.1f s); model saved to %s%n",
        result.getMap(),
        history.getEpochs().size(),
        (System.nanoTime() - start) / 1e9,
        modelDir);
  }
}
