package dev.jdetect.examples;

import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.backbone.MobileNetV2;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ProposalFilter;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import dev.jdetect.models.rcnn.RoiPoolers;
import dev.jdetect.models.rcnn.TwoMlpHead;
import dev.jdetect.models.ssd.FixedSizeTransform;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.train.inference.ModelDescription;
import dev.jdetect.train.inference.ModelRegistry;
import java.util.List;

/**
 * The small models the examples train from scratch on a CPU, built on {@link SmallBackbone}, and a
 * {@link ModelRegistry} that knows them next to the built-in types, so that {@code Detect} can load
 * what the examples save.
 */
public final class ExampleModels {

  /** The model type of {@link #ssdSmall(int, int)}. */
  public static final String SSD_SMALL = "ssd-small";

  /** The model type of {@link #fasterRcnnSmall(int, int)}. */
  public static final String FASTER_RCNN_SMALL = "faster-rcnn-small";

  static final String FASTER_RCNN_MOBILENETV2_SMALL = "faster-rcnn-mobilenetv2-small";

  private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  private ExampleModels() {}

  /**
   * The built-in types plus {@code ssd-small}, {@code faster-rcnn-small} and {@code
   * faster-rcnn-mobilenetv2-small}.
   */
  static ModelRegistry registry() {
    return ModelRegistry.withDefaults()
        .register(SSD_SMALL, d -> ssdSmall(d.getClasses().size(), inputSize(d)))
        .register(FASTER_RCNN_SMALL, d -> fasterRcnnSmall(d.getClasses().size(), inputSize(d)))
        .register(
            FASTER_RCNN_MOBILENETV2_SMALL,
            d -> fasterRcnn(MobileNetV2.builder().build(), d.getClasses().size(), inputSize(d)));
  }

  private static int inputSize(ModelDescription d) {
    return d.hasFixedInputSize() ? d.getInputWidth() : 256;
  }

  /**
   * An SSD on a four-source {@link SmallBackbone} (strides 8 to 64) with torchvision-style default
   * boxes.
   */
  public static Ssd ssdSmall(int numClasses, int size) {
    SmallBackbone backbone = new SmallBackbone(new int[] {16, 32, 64, 128, 128, 128}, 4);
    DefaultBoxGenerator boxes =
        DefaultBoxGenerator.builder()
            .setAspectRatios(
                List.of(new float[] {2}, new float[] {2, 3}, new float[] {2, 3}, new float[] {2}))
            .optMinRatio(0.1f)
            .optMaxRatio(0.8f)
            .build();
    return Ssd.builder()
        .setBackbone(backbone)
        .setNumClasses(numClasses)
        .setAnchorGenerator(boxes)
        .setTransform(
            FixedSizeTransform.builder()
                .setSize(size, size)
                .optNormalization(IMAGENET_MEAN, IMAGENET_STD)
                .build())
        .build();
  }

  /**
   * A Faster R-CNN on a one-source {@link SmallBackbone} (stride 16, 128 channels): anchors 16 to
   * 128 pixels x ratios 0.5/1/2, fewer proposals than torchvision (1000/300 in training, 500/100 at
   * test), a 256-unit two-layer box head, images kept at {@code size}.
   */
  public static FasterRcnn fasterRcnnSmall(int numClasses, int size) {
    SmallBackbone backbone = new SmallBackbone(new int[] {32, 64, 96, 128}, 1);
    return fasterRcnn(backbone, numClasses, size);
  }

  /** A Faster R-CNN with the small-image settings on any one-source backbone. */
  static FasterRcnn fasterRcnn(dev.jdetect.models.Backbone backbone, int numClasses, int size) {
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {16, 32, 64, 128}))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder()
            .setInChannels(backbone.outChannels()[0])
            .optAnchorGenerator(anchors)
            .optProposalFilter(
                ProposalFilter.builder().optPreNmsTopN(1000, 500).optPostNmsTopN(300, 100).build())
            .build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.multiScaleRoiAlign(7, 2))
            .optBoxHead(TwoMlpHead.builder().optUnits(256).build())
            .setNumClasses(numClasses)
            .build();
    return FasterRcnn.builder()
        .setBackbone(backbone)
        .optTransform(RcnnTransform.builder().optMinSize(size).optMaxSize(size).build())
        .setRpn(rpn)
        .setRoiHeads(heads)
        .build();
  }

  /** The input shape used to initialise the models. */
  static Shape inputShape(int size) {
    return new Shape(1, 3, size, size);
  }
}
