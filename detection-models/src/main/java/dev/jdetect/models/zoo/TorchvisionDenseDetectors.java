package dev.jdetect.models.zoo;

import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.backbone.ResNet50;
import dev.jdetect.models.dense.Fcos;
import dev.jdetect.models.dense.FcosHead;
import dev.jdetect.models.dense.RetinaNet;
import dev.jdetect.models.dense.RetinaNetHead;
import dev.jdetect.models.dense.RetinaNetLoss;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.FeaturePyramidNetwork;
import dev.jdetect.models.neck.LastLevelP6P7;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision 0.14.1's RetinaNet and FCOS builders, with its architectures, parameter names and
 * defaults, so the {@code .pth} files torchvision publishes load with {@code
 * WeightImport.load(model, Path.of("....pth"))} (files saved before torchvision 0.13 too, through
 * {@code LegacyNames}):
 *
 * <ul>
 *   <li>{@link #retinaNetResNet50Fpn(int, int)}: {@code retinanet_resnet50_fpn};
 *   <li>{@link #retinaNetResNet50FpnV2(int, int)}: {@code retinanet_resnet50_fpn_v2};
 *   <li>{@link #fcosResNet50Fpn(int, int)}: {@code fcos_resnet50_fpn}.
 * </ul>
 *
 * <p>Both take ResNet-50's layers 2 to 4 under a 256-channel feature pyramid with two extra levels
 * ({@link LastLevelP6P7}) and images 800 / at most 1333; RetinaNet's anchors are {@code (x, x
 * 2^(1/3), x 2^(2/3))} (truncated to whole pixels) for {@code x} = 32 to 512 with ratios 0.5, 1, 2,
 * FCOS's one square of the level's stride per location. A model for {@code C} classes has {@code C
 * + 1} logits per anchor, as torchvision's {@code num_classes = C + 1}. The {@code ...Coco()}
 * variants fit torchvision's COCO weights (91 logits in torchvision's category order, see {@link
 * CocoCategories}; three trainable backbone stages).
 */
public final class TorchvisionDenseDetectors {

  private TorchvisionDenseDetectors() {}

  /**
   * torchvision's {@code retinanet_resnet50_fpn}: ResNet-50 with frozen batch norms, P6 computed
   * from P5 ({@code LastLevelP6P7(256, 256)}), the head without norms and the L1 box loss.
   *
   * @param numClasses object classes without background
   * @param trainableLayers ResNet stages that train, counted from the top (torchvision: 3)
   * @return the model (not initialised)
   */
  public static RetinaNet retinaNetResNet50Fpn(int numClasses, int trainableLayers) {
    ResNet50 body =
        ResNet50.builder()
            .optFrozenBatchNorm(true)
            .optReturnedLayers(2, 3, 4)
            .optTrainableLayers(trainableLayers)
            .build();
    RetinaNetHead head = head(numClasses, 0);
    return retinaNet(body, new LastLevelP6P7(256, 256), head, RetinaNetLoss.BoxLoss.L1, false);
  }

  /**
   * {@link #retinaNetResNet50Fpn(int, int)} for torchvision's {@code
   * RetinaNet_ResNet50_FPN_Weights.COCO_V1}: 91 logits, three trainable stages, and batch-norm
   * epsilon 0 (torchvision calls {@code overwrite_eps(model, 0.0)} for these weights).
   *
   * @return the model (not initialised)
   */
  public static RetinaNet retinaNetResNet50FpnCoco() {
    RetinaNet model = retinaNetResNet50Fpn(TorchvisionDetectors.COCO_CLASSES, 3);
    FrozenBatchNorm2d.overwriteEps(model, 0f);
    return model;
  }

  /**
   * torchvision's {@code retinanet_resnet50_fpn_v2}: ResNet-50 with ordinary batch norms (they
   * train on batch statistics), P6 computed from C5 ({@code LastLevelP6P7(2048, 256)}), a group
   * norm of 32 groups after every head convolution and the GIoU box loss.
   *
   * @param numClasses object classes without background
   * @param trainableLayers ResNet stages that train, counted from the top (torchvision: 3 with
   *     pretrained weights, 5 without)
   * @return the model (not initialised)
   */
  public static RetinaNet retinaNetResNet50FpnV2(int numClasses, int trainableLayers) {
    ResNet50 body =
        ResNet50.builder().optReturnedLayers(2, 3, 4).optTrainableLayers(trainableLayers).build();
    RetinaNetHead head = head(numClasses, 32);
    return retinaNet(body, new LastLevelP6P7(2048, 256), head, RetinaNetLoss.BoxLoss.GIOU, true);
  }

  /**
   * {@link #retinaNetResNet50FpnV2(int, int)} for torchvision's {@code
   * RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1}: 91 logits and three trainable stages.
   *
   * @return the model (not initialised)
   */
  public static RetinaNet retinaNetResNet50FpnV2Coco() {
    return retinaNetResNet50FpnV2(TorchvisionDetectors.COCO_CLASSES, 3);
  }

  /**
   * torchvision's {@code fcos_resnet50_fpn}: ResNet-50 with frozen batch norms, P6 computed from P5
   * ({@code LastLevelP6P7(256, 256)}), {@link FcosHead} with GroupNorm(32), one location per cell
   * (anchors 8 to 128, ratio 1), centre sampling 1.5, post-processing score 0.2, NMS 0.6, 100
   * detections.
   *
   * @param numClasses object classes without background
   * @param trainableLayers ResNet stages that train, counted from the top (torchvision: 3)
   * @return the model (not initialised)
   */
  public static Fcos fcosResNet50Fpn(int numClasses, int trainableLayers) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
    ResNet50 body =
        ResNet50.builder()
            .optFrozenBatchNorm(true)
            .optReturnedLayers(2, 3, 4)
            .optTrainableLayers(trainableLayers)
            .build();
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
        .setBackbone(new BackboneWithFpn(body, fpn(body, new LastLevelP6P7(256, 256))))
        .setHead(new FcosHead(256, numClasses + 1, 32))
        .setAnchorGenerator(points)
        .optBackboneTrainingMode(false)
        .build();
  }

  /**
   * {@link #fcosResNet50Fpn(int, int)} for torchvision's {@code FCOS_ResNet50_FPN_Weights.COCO_V1}:
   * 91 logits and three trainable stages.
   *
   * @return the model (not initialised)
   */
  public static Fcos fcosResNet50FpnCoco() {
    return fcosResNet50Fpn(TorchvisionDetectors.COCO_CLASSES, 3);
  }

  /**
   * torchvision's RetinaNet anchors ({@code _default_anchorgen}): on the five levels, sizes {@code
   * (x, int(x 2^(1/3)), int(x 2^(2/3)))} for {@code x} = 32, 64, 128, 256, 512, ratios 0.5, 1, 2.
   *
   * @return the anchor generator (9 anchors per location)
   */
  public static AnchorGenerator anchors() {
    List<float[]> sizes = new ArrayList<>();
    for (int x = 32; x <= 512; x *= 2) {
      // torchvision truncates the intermediate sizes to integers: 40 and 50 for 32
      sizes.add(
          new float[] {x, (int) (x * Math.pow(2, 1.0 / 3)), (int) (x * Math.pow(2, 2.0 / 3))});
    }
    return AnchorGenerator.builder()
        .optSizes(sizes)
        .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
        .build();
  }

  private static RetinaNetHead head(int numClasses, int groupNormGroups) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
    return RetinaNetHead.builder()
        .setInChannels(256)
        .setNumAnchors(9)
        .setNumLogits(numClasses + 1)
        .optGroupNorm(groupNormGroups)
        .build();
  }

  private static RetinaNet retinaNet(
      ResNet50 body,
      LastLevelP6P7 extra,
      RetinaNetHead head,
      RetinaNetLoss.BoxLoss boxLoss,
      boolean backboneTrainingMode) {
    return RetinaNet.builder()
        .setBackbone(new BackboneWithFpn(body, fpn(body, extra)))
        .setHead(head)
        .setAnchorGenerator(anchors())
        .optLoss(RetinaNetLoss.builder().optBoxLoss(boxLoss).build())
        .optBackboneTrainingMode(backboneTrainingMode)
        .build();
  }

  private static FeaturePyramidNetwork fpn(ResNet50 body, LastLevelP6P7 extra) {
    return FeaturePyramidNetwork.builder()
        .setInChannels(body.outChannels())
        .setOutChannels(256)
        .optExtraBlocks(extra)
        .build();
  }
}
