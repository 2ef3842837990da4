package dev.jdetect.models.zoo;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.NormalInitializer;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.backbone.MobileNetV3;
import dev.jdetect.models.backbone.ResNet50;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.FeaturePyramidNetwork;
import dev.jdetect.models.neck.LastLevelMaxPool;
import dev.jdetect.models.rcnn.FastRcnnConvFcHead;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ProposalFilter;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import dev.jdetect.models.rcnn.RoiPoolers;
import dev.jdetect.models.rcnn.RpnHead;
import dev.jdetect.models.rcnn.TwoMlpHead;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.SsdLite;
import dev.jdetect.models.ssd.SsdLiteFeatureExtractor;
import java.util.List;

/**
 * torchvision 0.14.1's FPN Faster R-CNN and SSDlite builders, with its architectures, parameter
 * names and defaults, so the {@code .pth} files torchvision publishes load with {@code
 * WeightImport.load(model, Path.of("....pth"))}:
 *
 * <ul>
 *   <li>{@link #fasterRcnnResNet50Fpn(int, int)}: {@code fasterrcnn_resnet50_fpn};
 *   <li>{@link #fasterRcnnResNet50FpnV2(int, int)}: {@code fasterrcnn_resnet50_fpn_v2};
 *   <li>{@link #fasterRcnnMobileNetV3LargeFpn(int, int)}: {@code
 *       fasterrcnn_mobilenet_v3_large_fpn};
 *   <li>{@link #fasterRcnnMobileNetV3Large320Fpn(int, int)}: {@code
 *       fasterrcnn_mobilenet_v3_large_320_fpn};
 *   <li>{@link #ssdLite320MobileNetV3Large(int, int)}: {@code ssdlite320_mobilenet_v3_large}.
 * </ul>
 *
 * <p>The {@code ...Coco()} variants are configured for torchvision's COCO weights (91 outputs in
 * torchvision's category order, see {@link CocoCategories}): three trainable backbone stages for
 * the Faster R-CNNs (six, all, for SSDlite), and for the ResNet-50 v1 weights the batch-norm
 * epsilon 0 they were trained with.
 */
public final class TorchvisionDetectors {

  /** Outputs of torchvision's COCO detectors: 90 category ids and the background. */
  public static final int COCO_CLASSES = 90;

  private TorchvisionDetectors() {}

  /**
   * torchvision's {@code fasterrcnn_resnet50_fpn}: ResNet-50 (frozen batch norm) layers 1 to 4
   * under a 256-channel FPN with a max-pooled fifth level, anchors 32 to 512 (one size per level) x
   * 0.5/1/2, the RPN and box heads with torchvision's defaults, images 800 / at most 1333.
   *
   * @param numClasses object classes without background
   * @param trainableLayers ResNet stages that train, counted from the top (torchvision: 3)
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnResNet50Fpn(int numClasses, int trainableLayers) {
    ResNet50 body =
        ResNet50.builder()
            .optFrozenBatchNorm(true)
            .optReturnedLayers(1, 2, 3, 4)
            .optTrainableLayers(trainableLayers)
            .build();
    return fpnFasterRcnn(
        withFpn(body, false),
        resNetAnchors(),
        ProposalFilter.builder().build(),
        numClasses,
        false,
        800,
        1333);
  }

  /**
   * torchvision's {@code fasterrcnn_resnet50_fpn_v2}: {@link #fasterRcnnResNet50Fpn(int, int)} with
   * trainable batch norms in ResNet-50 and in the pyramid's blocks, an RPN head of two 3x3
   * convolutions, and a box head of four 3x3 convolutions of 256 with batch norm and one layer of
   * 1024 ({@link FastRcnnConvFcHead}). The backbone's batch norms train on batch statistics.
   *
   * @param numClasses object classes without background
   * @param trainableLayers ResNet stages that train, counted from the top (torchvision: 3 with
   *     pretrained weights, 5 without)
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnResNet50FpnV2(int numClasses, int trainableLayers) {
    ResNet50 body =
        ResNet50.builder()
            .optReturnedLayers(1, 2, 3, 4)
            .optTrainableLayers(trainableLayers)
            .build();
    RpnHead rpnHead = RpnHead.builder().setInChannels(256).setNumAnchors(3).optConvDepth(2).build();
    FastRcnnConvFcHead boxHead =
        FastRcnnConvFcHead.builder()
            .setConvChannels(256, 256, 256, 256)
            .setFcUnits(1024)
            .optBatchNorm(true)
            .build();
    return fpnFasterRcnn(
        withFpn(body, true),
        resNetAnchors(),
        ProposalFilter.builder().build(),
        numClasses,
        new Heads(rpnHead, boxHead, true),
        800,
        1333);
  }

  /**
   * {@link #fasterRcnnResNet50FpnV2(int, int)} for torchvision's {@code
   * FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1}: 91 outputs, three trainable stages.
   *
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnResNet50FpnV2Coco() {
    return fasterRcnnResNet50FpnV2(COCO_CLASSES, 3);
  }

  /**
   * {@link #fasterRcnnResNet50Fpn(int, int)} for torchvision's {@code
   * FasterRCNN_ResNet50_FPN_Weights.COCO_V1}: 91 outputs, three trainable stages, and batch-norm
   * epsilon 0 (torchvision calls {@code overwrite_eps(model, 0.0)} for these weights).
   *
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnResNet50FpnCoco() {
    FasterRcnn model = fasterRcnnResNet50Fpn(COCO_CLASSES, 3);
    FrozenBatchNorm2d.overwriteEps(model, 0f);
    return model;
  }

  /**
   * torchvision's {@code fasterrcnn_mobilenet_v3_large_fpn}: MobileNetV3-Large children 13 and 16
   * under a 256-channel FPN with a max-pooled third level, anchors 32 to 512 x 0.5/1/2 on every
   * level, RPN score threshold 0.05, images 800 / at most 1333.
   *
   * @param numClasses object classes without background
   * @param trainableLayers MobileNetV3 stages that train, counted from the top (torchvision: 3)
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnMobileNetV3LargeFpn(int numClasses, int trainableLayers) {
    return mobileNetV3Fpn(numClasses, trainableLayers, false, 800, 1333, 1000, 1000);
  }

  /**
   * torchvision's {@code fasterrcnn_mobilenet_v3_large_320_fpn}: as {@link
   * #fasterRcnnMobileNetV3LargeFpn(int, int)} on images 320 / at most 640, with 150 proposals kept
   * before and after NMS in inference.
   *
   * @param numClasses object classes without background
   * @param trainableLayers MobileNetV3 stages that train, counted from the top (torchvision: 3)
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnMobileNetV3Large320Fpn(int numClasses, int trainableLayers) {
    return mobileNetV3Fpn(numClasses, trainableLayers, false, 320, 640, 150, 150);
  }

  /**
   * {@link #fasterRcnnMobileNetV3LargeFpn(int, int)} as torchvision builds it without any weights
   * ({@code weights=None, weights_backbone=None}), for training from scratch: trainable batch norms
   * (PyTorch's defaults, eps 1e-5 and momentum 0.1) that run in training mode during training, and
   * all six stages trainable. The state-dict names are the same.
   *
   * @param numClasses object classes without background
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnMobileNetV3LargeFpnFromScratch(int numClasses) {
    return mobileNetV3Fpn(numClasses, 6, true, 800, 1333, 1000, 1000);
  }

  /**
   * {@link #fasterRcnnMobileNetV3Large320Fpn(int, int)} as torchvision builds it without any
   * weights, for training from scratch (see {@link
   * #fasterRcnnMobileNetV3LargeFpnFromScratch(int)}).
   *
   * @param numClasses object classes without background
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnMobileNetV3Large320FpnFromScratch(int numClasses) {
    return mobileNetV3Fpn(numClasses, 6, true, 320, 640, 150, 150);
  }

  /**
   * torchvision's {@code ssdlite320_mobilenet_v3_large}: MobileNetV3-Large with the reduced tail
   * (as its COCO weights were trained; batch norm eps 0.001, momentum 0.03) split at the expansion
   * layer of child 13, four ReLU6 extra blocks, the SSDlite head, default boxes with ratios 2 and 3
   * from scale 0.2 to 0.95 on six maps, 320x320 images scaled to [-1, 1], score threshold 0.001,
   * NMS 0.55, 300 candidates and 300 detections per image. Convolution weights start as N(0, 0.03).
   *
   * @param numClasses object classes without background
   * @param trainableLayers MobileNetV3 stages that train, counted from the top (torchvision: 6,
   *     all)
   * @return the model (not initialised)
   */
  public static Ssd ssdLite320MobileNetV3Large(int numClasses, int trainableLayers) {
    MobileNetV3 body =
        MobileNetV3.builder()
            .optStages(MobileNetV3.large(1.0, true, false))
            .optBatchNorm(0.001f, 0.03f)
            .optTrainableLayers(trainableLayers)
            .build();
    // torchvision's _normal_init of the backbone when it has no ImageNet weights
    body.setInitializer(new NormalInitializer(0.03f), Parameter.Type.WEIGHT);
    SsdLiteFeatureExtractor extractor =
        SsdLiteFeatureExtractor.builder().setMobileNet(body).optBatchNorm(0.001f, 0.03f).build();
    return SsdLite.withExtractor(numClasses, extractor, 320);
  }

  /**
   * {@link #ssdLite320MobileNetV3Large(int, int)} for torchvision's {@code
   * SSDLite320_MobileNet_V3_Large_Weights.COCO_V1}: 91 outputs, every stage trainable.
   *
   * @return the model (not initialised)
   */
  public static Ssd ssdLite320MobileNetV3LargeCoco() {
    return ssdLite320MobileNetV3Large(COCO_CLASSES, 6);
  }

  private static FasterRcnn mobileNetV3Fpn(
      int numClasses,
      int trainableLayers,
      boolean fromScratch,
      int minSize,
      int maxSize,
      int preNms,
      int postNms) {
    MobileNetV3.Builder bodyBuilder =
        MobileNetV3.builder()
            .optStages(MobileNetV3.large(1.0, false, false))
            .optReturnedIndices(13, 16)
            .optTrainableLayers(trainableLayers);
    if (fromScratch) {
      // torchvision passes nn.BatchNorm2d itself: PyTorch's eps and momentum, not MobileNetV3's
      bodyBuilder.optBatchNorm(1e-5f, 0.1f);
    } else {
      bodyBuilder.optFrozenBatchNorm(true);
    }
    MobileNetV3 body = bodyBuilder.build();
    float[] sizes = {32, 64, 128, 256, 512};
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(sizes, sizes, sizes))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    ProposalFilter filter =
        ProposalFilter.builder()
            .optPreNmsTopN(2000, preNms)
            .optPostNmsTopN(2000, postNms)
            .optScoreThreshold(0.05f)
            .build();
    return fpnFasterRcnn(
        withFpn(body, false), anchors, filter, numClasses, fromScratch, minSize, maxSize);
  }

  /** One size per level, 32 to 512, ratios 0.5, 1, 2 (torchvision's {@code _default_anchorgen}). */
  private static AnchorGenerator resNetAnchors() {
    return AnchorGenerator.builder()
        .optSizes(
            List.of(
                new float[] {32},
                new float[] {64},
                new float[] {128},
                new float[] {256},
                new float[] {512}))
        .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
        .build();
  }

  private static BackboneWithFpn withFpn(Backbone body, boolean batchNorm) {
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(body.outChannels())
            .setOutChannels(256)
            .optBatchNorm(batchNorm)
            .optExtraBlocks(new LastLevelMaxPool())
            .build();
    return new BackboneWithFpn(body, fpn);
  }

  /**
   * The heads that differ between the v1 and v2 detectors, and whether the backbone's norms train
   * (v2's plain batch norms) or stay fixed (v1's frozen ones).
   */
  private record Heads(RpnHead rpnHead, Block boxHead, boolean backboneTrains) {}

  private static FasterRcnn fpnFasterRcnn(
      BackboneWithFpn backbone,
      AnchorGenerator anchors,
      ProposalFilter filter,
      int numClasses,
      boolean backboneTrains,
      int minSize,
      int maxSize) {
    int anchorsPerLocation = anchors.numAnchorsPerLocation()[0];
    RpnHead rpnHead =
        RpnHead.builder().setInChannels(256).setNumAnchors(anchorsPerLocation).build();
    Heads v1 = new Heads(rpnHead, TwoMlpHead.builder().optUnits(1024).build(), backboneTrains);
    return fpnFasterRcnn(backbone, anchors, filter, numClasses, v1, minSize, maxSize);
  }

  private static FasterRcnn fpnFasterRcnn(
      BackboneWithFpn backbone,
      AnchorGenerator anchors,
      ProposalFilter filter,
      int numClasses,
      Heads parts,
      int minSize,
      int maxSize) {
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder()
            .optHead(parts.rpnHead())
            .optAnchorGenerator(anchors)
            .optProposalFilter(filter)
            .build();
    int pyramidLevels = backbone.fpn().inChannels().length;
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.multiScaleRoiAlign(7, 2, pyramidLevels))
            .optBoxHead(parts.boxHead())
            .setNumClasses(numClasses)
            .build();
    RcnnTransform transform =
        RcnnTransform.builder().optMinSize(minSize).optMaxSize(maxSize).build();
    return FasterRcnn.builder()
        .setBackbone(backbone)
        .optTransform(transform)
        .setRpn(rpn)
        .setRoiHeads(heads)
        // v1: torchvision freezes the backbone's norms (FrozenBatchNorm2d) for detection
        .optBackboneTrainingMode(parts.backboneTrains())
        .build();
  }
}
