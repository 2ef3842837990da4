package dev.jdetect.models.rcnn;

import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.backbone.MobileNetV2;
import dev.jdetect.models.backbone.ResNet50;
import dev.jdetect.models.backbone.Vgg16;
import dev.jdetect.models.weights.WeightImport;
import java.util.List;

/**
 * Ready-made Faster R-CNN configurations. Every model is a {@link FasterRcnn}; {@link
 * FasterRcnn#builder()} composes any other.
 */
public final class FasterRcnnModels {

  private FasterRcnnModels() {}

  /**
   * The configuration of the original paper on VGG16: conv5_3 features (512 channels, stride 16);
   * classic anchors 128/256/512 x 0.5/1/2 at stride 16; the paper's RPN ({@link
   * RegionProposalNetwork#classicBuilder()}: 2-way softmax objectness, cross-boundary anchors
   * ignored, 12000/2000 and 6000/300 proposals, minimum size 16, lambda 10); RoIPool 7x7 at 1/16;
   * fc6/fc7 of 4096 units with dropout 0.5; images resized to 600 / at most 1000 pixels.
   *
   * @param numClasses object classes without background (20 for VOC)
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnVgg16(int numClasses) {
    Backbone backbone = Vgg16.builder().optForm(Vgg16.Form.CONV5_3).build();
    RegionProposalNetwork rpn = RegionProposalNetwork.classicBuilder().setInChannels(512).build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.roiPool(7, 1f / 16))
            .optBoxHead(TwoMlpHead.builder().optUnits(4096).optDropout(0.5f).build())
            .setNumClasses(numClasses)
            .build();
    return FasterRcnn.builder()
        .setBackbone(backbone)
        .optTransform(RcnnTransform.builder().optMinSize(600).optMaxSize(1000).build())
        .setRpn(rpn)
        .setRoiHeads(heads)
        .build();
  }

  /**
   * The importer that starts {@link #fasterRcnnVgg16} from an ImageNet VGG16 classifier, as the
   * paper does: torchvision's {@code vgg16} {@code state_dict} ({@code features.*}, {@code
   * classifier.0/3/6.*}) gives the backbone's convolutions ({@code features.0} to {@code
   * features.28}, conv1_1 to conv5_3), and its first two fully connected layers become the box
   * head's {@code fc6} ({@code classifier.0}, 25088 to 4096) and {@code fc7} ({@code classifier.3},
   * 4096 to 4096). The 1000-class layer {@code classifier.6} is skipped; the RPN and the box
   * predictor keep their initialisation. Strict: every other name must match.
   *
   * <pre>{@code
   * FasterRcnn model = FasterRcnnModels.fasterRcnnVgg16(20);
   * model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 600, 800));
   * FasterRcnnModels.imageNetVgg16Import().apply(model, Path.of("vgg16_imagenet.npz"));
   * }</pre>
   *
   * @return the importer
   */
  public static WeightImport imageNetVgg16Import() {
    return WeightImport.builder()
        .optRename(FasterRcnnModels::imageNetVgg16Name)
        .optExclude(
            name ->
                name.startsWith("classifier.6.")
                    || name.startsWith("rpn.")
                    || name.startsWith("roi_heads.box_predictor."))
        .build();
  }

  /** Maps a torchvision ImageNet {@code vgg16} tensor name onto {@link #fasterRcnnVgg16}. */
  static String imageNetVgg16Name(String name) {
    if (name.startsWith("features.")) {
      return "backbone." + name;
    }
    if (name.startsWith("classifier.0.")) {
      return "roi_heads.box_head.fc6." + name.substring("classifier.0.".length());
    }
    if (name.startsWith("classifier.3.")) {
      return "roi_heads.box_head.fc7." + name.substring("classifier.3.".length());
    }
    return name;
  }

  /**
   * torchvision's documented MobileNetV2 Faster R-CNN: {@code mobilenet_v2().features} (1280
   * channels, stride 32), one level of anchors 32/64/128/256/512 x 0.5/1/2, the torchvision RPN,
   * MultiScaleRoIAlign 7x7 sampling 2, TwoMLPHead 1024, images 800 / at most 1333. The backbone's
   * batch norms keep their running statistics in training ({@link
   * FasterRcnn.Builder#optBackboneTrainingMode(boolean)}).
   *
   * @param numClasses object classes without background (90 for torchvision's COCO ids)
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnMobileNetV2(int numClasses) {
    Backbone backbone = MobileNetV2.builder().build();
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {32, 64, 128, 256, 512}))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    FasterRcnn.Builder builder = torchvisionHeads(backbone, anchors, numClasses);
    // small detection batches: keep the ImageNet batch-norm statistics, as torchvision freezes them
    return builder.optBackboneTrainingMode(false).build();
  }

  /**
   * Faster R-CNN on ResNet-50 C4 (the Detectron C4 layout): {@code conv1 .. layer3} with frozen
   * batch norm (1024 channels, stride 16), anchors 32/64/128/256/512 x 0.5/1/2, the torchvision
   * RPN, RoIAlign 14x14 (sampling 2) at 1/16 and {@code layer4} + average pooling as the box head
   * ({@link Res5Head}, 2048 features), images 800 / at most 1333.
   *
   * @param numClasses object classes without background
   * @return the model (not initialised)
   */
  public static FasterRcnn fasterRcnnResNet50C4(int numClasses) {
    Backbone backbone =
        ResNet50.builder().optForm(ResNet50.Form.C4).optFrozenBatchNorm(true).build();
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {32, 64, 128, 256, 512}))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder().setInChannels(1024).optAnchorGenerator(anchors).build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.roiAlign(14, 1f / 16, 2))
            .optBoxHead(new Res5Head(true))
            .setNumClasses(numClasses)
            .build();
    return FasterRcnn.builder().setBackbone(backbone).setRpn(rpn).setRoiHeads(heads).build();
  }

  /**
   * torchvision's Faster R-CNN defaults around any backbone whose sources share one channel count:
   * torchvision RPN with the given anchors, MultiScaleRoIAlign 7x7 sampling 2, TwoMLPHead 1024, 800
   * / 1333 images.
   *
   * @param backbone the backbone
   * @param anchors the anchor generator (one level per backbone source)
   * @param numClasses object classes without background
   * @return the model (not initialised)
   */
  public static FasterRcnn withTorchvisionHeads(
      Backbone backbone, AnchorGenerator anchors, int numClasses) {
    return torchvisionHeads(backbone, anchors, numClasses).build();
  }

  private static FasterRcnn.Builder torchvisionHeads(
      Backbone backbone, AnchorGenerator anchors, int numClasses) {
    int channels = backbone.outChannels()[0];
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder().setInChannels(channels).optAnchorGenerator(anchors).build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.multiScaleRoiAlign(7, 2))
            .optBoxHead(TwoMlpHead.builder().optUnits(1024).build())
            .setNumClasses(numClasses)
            .build();
    return FasterRcnn.builder().setBackbone(backbone).setRpn(rpn).setRoiHeads(heads);
  }
}
