package dev.jdetect.models.zoo;

import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.dense.Fcos;
import dev.jdetect.models.dense.FcosHead;
import dev.jdetect.models.dense.RetinaNet;
import dev.jdetect.models.dense.RetinaNetHead;
import dev.jdetect.models.dense.RetinaNetLoss;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.FeaturePyramidNetwork;
import dev.jdetect.models.neck.LastLevelP6P7;
import dev.jdetect.models.rcnn.RcnnTransform;
import java.util.ArrayList;
import java.util.List;

/**
 * Small RetinaNet and FCOS configurations that train from scratch on a CPU on small images (a few
 * hundred pixels, objects of 16 to 128 pixels). {@link ModelZoo} knows them as {@code
 * retinanet-small} and {@code fcos-small}.
 *
 * <p>Both put a 64-channel feature pyramid with two extra levels ({@link LastLevelP6P7}, P6 from
 * P5) on the last three stages of a five-stage {@link SmallBackbone} (channels 16 to 128), so the
 * levels have strides 8 to 128; the heads use a group norm of 8 groups (which trains from scratch
 * more steadily than torchvision's v1 head without norms) and images keep their input size.
 */
public final class SmallDenseModels {

  private static final int CHANNELS = 64;
  private static final int GROUPS = 8;

  private SmallDenseModels() {}

  /**
   * Creates {@code retinanet-small}: anchors {@code (x, x 2^(1/3), x 2^(2/3))} for {@code x} = 16
   * to 256 (one per level) with ratios 0.5, 1, 2, and the GIoU box loss as torchvision's v2.
   *
   * @param numClasses object classes, background excluded
   * @param width the input width in pixels
   * @param height the input height in pixels
   * @return the model (not initialised)
   */
  public static RetinaNet retinaNetSmall(int numClasses, int width, int height) {
    checkClasses(numClasses);
    List<float[]> sizes = new ArrayList<>();
    for (int x = 16; x <= 256; x *= 2) {
      sizes.add(
          new float[] {x, (int) (x * Math.pow(2, 1.0 / 3)), (int) (x * Math.pow(2, 2.0 / 3))});
    }
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(sizes)
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    RetinaNetHead head =
        RetinaNetHead.builder()
            .setInChannels(CHANNELS)
            .setNumAnchors(9)
            .setNumLogits(numClasses + 1)
            .optGroupNorm(GROUPS)
            .build();
    return RetinaNet.builder()
        .setBackbone(backbone())
        .setHead(head)
        .setAnchorGenerator(anchors)
        .optLoss(RetinaNetLoss.builder().optBoxLoss(RetinaNetLoss.BoxLoss.GIOU).build())
        .optTransform(transform(width, height))
        .build();
  }

  /**
   * Creates {@code fcos-small}: one location per cell of strides 8 to 128 and torchvision's FCOS
   * losses and post-processing.
   *
   * @param numClasses object classes, background excluded
   * @param width the input width in pixels
   * @param height the input height in pixels
   * @return the model (not initialised)
   */
  public static Fcos fcosSmall(int numClasses, int width, int height) {
    checkClasses(numClasses);
    List<float[]> sizes = new ArrayList<>();
    for (int stride = 8; stride <= 128; stride *= 2) {
      sizes.add(new float[] {stride});
    }
    AnchorGenerator points =
        AnchorGenerator.builder()
            .optSizes(sizes)
            .optAspectRatios(List.of(new float[] {1f}))
            .build();
    return Fcos.builder()
        .setBackbone(backbone())
        .setHead(new FcosHead(CHANNELS, numClasses + 1, GROUPS))
        .setAnchorGenerator(points)
        .optTransform(transform(width, height))
        .build();
  }

  private static BackboneWithFpn backbone() {
    SmallBackbone body = new SmallBackbone(new int[] {16, 32, 64, 96, 128}, 3);
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(body.outChannels())
            .setOutChannels(CHANNELS)
            .optExtraBlocks(new LastLevelP6P7(CHANNELS, CHANNELS))
            .build();
    return new BackboneWithFpn(body, fpn);
  }

  private static RcnnTransform transform(int width, int height) {
    return RcnnTransform.builder()
        .optMinSize(Math.min(width, height))
        .optMaxSize(Math.max(width, height))
        .build();
  }

  private static void checkClasses(int numClasses) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
  }
}
