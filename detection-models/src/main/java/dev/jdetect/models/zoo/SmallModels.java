package dev.jdetect.models.zoo;

import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ProposalFilter;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import dev.jdetect.models.rcnn.RoiPoolers;
import dev.jdetect.models.rcnn.TwoMlpHead;
import dev.jdetect.models.ssd.FixedSizeTransform;
import dev.jdetect.models.ssd.Ssd;
import java.util.List;

/**
 * Small SSD and Faster R-CNN configurations that train from scratch on a CPU in minutes on small
 * images (a few hundred pixels, objects of 16 to 128 pixels). {@link ModelZoo} knows them as {@code
 * ssd-small}, {@code faster-rcnn-small} and {@code faster-rcnn-mobilenetv2-small}.
 */
public final class SmallModels {

  private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  private SmallModels() {}

  /**
   * Creates {@code ssd-small}: an SSD on a four-source {@link SmallBackbone} (channels 16 to 128,
   * strides 8 to 64) with torchvision-style default boxes (ratios {@code [2], [2, 3], [2, 3], [2]},
   * scales 0.1 to 0.8) and ImageNet normalisation.
   *
   * @param numClasses object classes, background excluded
   * @param width the input width in pixels (images are resized to it)
   * @param height the input height in pixels
   * @return the model (not initialised)
   */
  public static Ssd ssdSmall(int numClasses, int width, int height) {
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
                .setSize(width, height)
                .optNormalization(IMAGENET_MEAN, IMAGENET_STD)
                .build())
        .build();
  }

  /**
   * Creates {@code faster-rcnn-small}: the small-image Faster R-CNN of {@link
   * #fasterRcnnSmall(Backbone, int, int, int)} on a one-source {@link SmallBackbone} (channels 32
   * to 128, stride 16).
   *
   * @param numClasses object classes, background excluded
   * @param width the input width in pixels
   * @param height the input height in pixels
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnSmall(int numClasses, int width, int height) {
    SmallBackbone backbone = new SmallBackbone(new int[] {32, 64, 96, 128}, 1);
    return fasterRcnnSmall(backbone, numClasses, width, height);
  }

  /**
   * Creates a Faster R-CNN with small-image settings on any one-source backbone: anchors 16 to 128
   * pixels x ratios 0.5/1/2, fewer proposals than torchvision (1000/300 in training, 500/100 at
   * test), multi-scale RoIAlign 7x7, a 256-unit two-layer box head, images kept at their input
   * size.
   *
   * @param backbone a backbone with one source
   * @param numClasses object classes, background excluded
   * @param width the input width in pixels
   * @param height the input height in pixels
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnSmall(
      Backbone backbone, int numClasses, int width, int height) {
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
    RcnnTransform transform =
        RcnnTransform.builder()
            .optMinSize(Math.min(width, height))
            .optMaxSize(Math.max(width, height))
            .build();
    return FasterRcnn.builder()
        .setBackbone(backbone)
        .optTransform(transform)
        .setRpn(rpn)
        .setRoiHeads(heads)
        .build();
  }
}
