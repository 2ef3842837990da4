package dev.jdetect.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ProposalFilter;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import dev.jdetect.models.rcnn.RoiPoolers;
import dev.jdetect.models.rcnn.TwoMlpHead;
import dev.jdetect.models.ssd.FixedSizeTransform;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.train.DetectionEvaluation;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.VocReader;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Plugs a user-defined backbone into SSD and Faster R-CNN.
 *
 * <p>A backbone is any DJL block implementing {@link Backbone}: its forward pass returns one
 * feature map per source, and it reports the channels and strides of those sources. {@link
 * TwoScaleBackbone} below is a complete one (two sources, 64 channels at strides 8 and 16). The
 * example builds
 *
 * <ul>
 *   <li>an {@link Ssd} on it, with a {@link DefaultBoxGenerator} of one level per source (the SSD
 *       head is sized from {@code outChannels()} and the boxes per location);
 *   <li>a {@link FasterRcnn} on it, with an {@link AnchorGenerator} of one level per source, an RPN
 *       whose shared head takes the sources' common channel count, and multi-scale RoIAlign over
 *       both sources;
 * </ul>
 *
 * <p>and trains each for a few epochs on a small generated shapes set, printing the losses and the
 * validation mAP@0.5.
 */
@Command(
    name = "CustomBackbone",
    description = {
      "Plugs a user-defined two-source backbone into SSD and Faster R-CNN and trains both briefly"
          + " on a generated shapes set, printing the losses and the validation mAP@0.5.",
      "Each model trains in its own folder, <out>/ssd and <out>/faster-rcnn."
    })
public final class CustomBackbone implements Callable<Integer> {

  /**
   * A two-source backbone: a stride-8 stem (three stride-2 conv + batch norm + ReLU stages) gives
   * source 0, one more stride-2 stage gives source 1; both have 64 channels.
   */
  public static final class TwoScaleBackbone extends AbstractBlock implements Backbone {

    private final Block stem;
    private final Block down;

    /** Creates the backbone. */
    public TwoScaleBackbone() {
      stem = addChildBlock("stem", new SequentialBlock().addAll(stage(16), stage(32), stage(64)));
      down = addChildBlock("down", stage(64));
    }

    private static Block stage(int channels) {
      return new SequentialBlock()
          .add(
              Conv2d.builder()
                  .setKernelShape(new Shape(3, 3))
                  .optStride(new Shape(2, 2))
                  .optPadding(new Shape(1, 1))
                  .setFilters(channels)
                  .optBias(false)
                  .build())
          .add(BatchNorm.builder().build())
          .add(Activation::relu);
    }

    @Override
    public int[] outChannels() {
      return new int[] {64, 64};
    }

    @Override
    public int[] strides() {
      return new int[] {8, 16};
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray c3 = stem.forward(ps, inputs, training, params).singletonOrThrow();
      NDArray c4 = down.forward(ps, new NDList(c3), training, params).singletonOrThrow();
      return new NDList(c3, c4);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      Shape c3 = stem.getOutputShapes(inputShapes)[0];
      Shape c4 = down.getOutputShapes(new Shape[] {c3})[0];
      return new Shape[] {c3, c4};
    }

    @Override
    protected void initializeChildBlocks(
        NDManager manager, DataType dataType, Shape... inputShapes) {
      stem.initialize(manager, dataType, inputShapes);
      down.initialize(manager, dataType, stem.getOutputShapes(inputShapes));
    }
  }

  @Mixin TrainingOptions training = new TrainingOptions("runs/custom-backbone", 192, 3, 0.01);

  @Mixin ShapesOptions shapes = new ShapesOptions(80);

  private CustomBackbone() {}

  /** SSD on the custom backbone. */
  static Ssd ssd(int numClasses, int size) {
    return Ssd.builder()
        .setBackbone(new TwoScaleBackbone())
        .setNumClasses(numClasses)
        .setAnchorGenerator(
            DefaultBoxGenerator.builder()
                .setAspectRatios(List.of(new float[] {2}, new float[] {2, 3}))
                .optMinRatio(0.15f)
                .optMaxRatio(0.6f)
                .build())
        .setTransform(
            FixedSizeTransform.builder()
                .setSize(size, size)
                .optNormalization(
                    new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f})
                .build())
        .build();
  }

  /** Faster R-CNN on the custom backbone. */
  static FasterRcnn fasterRcnn(int numClasses, int size) {
    TwoScaleBackbone backbone = new TwoScaleBackbone();
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {16, 32}, new float[] {64, 128}))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}, new float[] {0.5f, 1f, 2f}))
            .build();
    return FasterRcnn.builder()
        .setBackbone(backbone)
        .optTransform(RcnnTransform.builder().optMinSize(size).optMaxSize(size).build())
        .setRpn(
            RegionProposalNetwork.builder()
                .setInChannels(64)
                .optAnchorGenerator(anchors)
                .optProposalFilter(
                    ProposalFilter.builder()
                        .optPreNmsTopN(1000, 500)
                        .optPostNmsTopN(300, 100)
                        .build())
                .build())
        .setRoiHeads(
            RoiHeads.builder()
                .setPooler(RoiPoolers.multiScaleRoiAlign(7, 2))
                .optBoxHead(TwoMlpHead.builder().optUnits(256).build())
                .setNumClasses(numClasses)
                .build())
        .build();
  }

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(CustomBackbone.class, args);
  }

  @Override
  public Integer call() throws IOException {
    Path out = training.out;
    int size = training.input;
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(3)
            .optNumImages(shapes.images)
            .optNumClasses(3)
            .optImageSize(256)
            .build();
    generator.writeVoc(out.resolve("data"));
    AnnotationSet train =
        VocReader.builder().setRoot(out.resolve("data")).optSplit("train").build().read();
    AnnotationSet val =
        VocReader.builder().setRoot(out.resolve("data")).optSplit("val").build().read();
    int classes = train.getNumClasses();
    train(ssd(classes, size), "ssd", train, val);
    train(fasterRcnn(classes, size), "faster-rcnn", train, val);
    return 0;
  }

  private void train(DetectionModel model, String name, AnnotationSet train, AnnotationSet val)
      throws IOException {
    int size = training.input;
    Resize resize = new Resize(size, size);
    try (NDManager manager = NDManager.newBaseManager()) {
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, size, size));
      long params = 0;
      for (var p : model.getParameters()) {
        params += p.getValue().getArray().size();
      }
      System.out.printf(
          Locale.ROOT,
          "%s on TwoScaleBackbone: %,d parameters, losses %s%n",
          name,
          params,
          String.join(", ", model.lossNames()));
      try (DetectionTrainer trainer =
          TrainingOptions.trainer(
                  training.out.resolve(name),
                  training.epochs,
                  training.batch,
                  training.seed,
                  training.resume)
              .setModel(model)
              .optOptimizer(ResumableSgd.builder().build())
              .optSchedule(LrSchedule.builder().setBaseLr(training.lr).optWarmup(20, 0.01).build())
              .build()) {
        trainer.fit(SampleData.builder().setAnnotations(train).optPreprocess(resize).build());
      }
      double map = DetectionEvaluation.voc(model, val, resize, 8, 0.5, false).getMap();
      System.out.printf(Locale.ROOT, "%s: validation mAP@0.5 = %.4f%n", name, map);
    }
  }
}
