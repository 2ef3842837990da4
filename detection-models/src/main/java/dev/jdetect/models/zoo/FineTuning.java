package dev.jdetect.models.zoo;

import ai.djl.ndarray.NDManager;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.LegacyNames;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.WeightImport;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Fine-tuning a torchvision COCO Faster R-CNN on your own classes, torchvision's tutorial recipe:
 * the model is built for {@code N} classes (so its box predictor, {@code
 * roi_heads.box_predictor.*}, is a fresh {@code FastRCNNPredictor(in_features, N + 1)}), every
 * other parameter is loaded from the COCO checkpoint, strictly, and the backbone's first stages are
 * frozen as torchvision's {@code trainable_backbone_layers} freezes them.
 *
 * <pre>{@code
 * FasterRcnn model = FineTuning.model(FineTuning.Checkpoint.RESNET50_FPN, 3, 3);
 * model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 800, 800));
 * FineTuning.loadAllButPredictor(model, Path.of("fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"));
 * }</pre>
 */
public final class FineTuning {

  /** The prefix of the parameters the recipe replaces. */
  public static final String PREDICTOR = "roi_heads.box_predictor.";

  /** torchvision's COCO Faster R-CNN checkpoints, each with the settings its weights need. */
  public enum Checkpoint {
    /** {@code FasterRCNN_ResNet50_FPN_Weights.COCO_V1} (frozen batch norms with epsilon 0). */
    RESNET50_FPN,
    /** {@code FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1} (trainable batch norms). */
    RESNET50_FPN_V2,
    /** {@code FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1}. */
    MOBILENET_V3_LARGE_FPN,
    /** {@code FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1}. */
    MOBILENET_V3_LARGE_320_FPN
  }

  private FineTuning() {}

  /**
   * Builds the detector of a checkpoint for new classes, with the checkpoint's settings (the
   * ResNet-50 v1 weights' batch-norm epsilon 0) and frozen backbone stages.
   *
   * @param checkpoint the COCO checkpoint the model starts from
   * @param numClasses object classes without background
   * @param trainableLayers backbone stages that train, counted from the top (torchvision's default
   *     for pretrained weights: 3; ResNet-50 0 to 5, MobileNetV3 0 to 6)
   * @return the model (not initialised)
   * @throws IllegalArgumentException if {@code numClasses < 1} or the stage count is out of range
   */
  public static FasterRcnn model(Checkpoint checkpoint, int numClasses, int trainableLayers) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
    switch (checkpoint) {
      case RESNET50_FPN:
        FasterRcnn model = TorchvisionDetectors.fasterRcnnResNet50Fpn(numClasses, trainableLayers);
        FrozenBatchNorm2d.overwriteEps(model, 0f);
        return model;
      case RESNET50_FPN_V2:
        return TorchvisionDetectors.fasterRcnnResNet50FpnV2(numClasses, trainableLayers);
      case MOBILENET_V3_LARGE_FPN:
        return TorchvisionDetectors.fasterRcnnMobileNetV3LargeFpn(numClasses, trainableLayers);
      case MOBILENET_V3_LARGE_320_FPN:
        return TorchvisionDetectors.fasterRcnnMobileNetV3Large320Fpn(numClasses, trainableLayers);
      default:
        throw new IllegalArgumentException("unknown checkpoint " + checkpoint);
    }
  }

  /**
   * Loads every parameter but the box predictor's from a state dict (names from before torchvision
   * 0.13 are upgraded): any other missing, unexpected or mis-shaped name is an error. The predictor
   * keeps its initial values.
   *
   * @param model an initialised detector
   * @param coco the checkpoint's tensors
   * @return what was loaded (the predictor's tensors are neither loaded nor reported)
   * @throws dev.jdetect.models.weights.WeightImportException if a name outside the predictor is
   *     missing, unexpected or mis-shaped (nothing is copied then)
   */
  public static ImportReport loadAllButPredictor(FasterRcnn model, StateDict coco) {
    return WeightImport.builder()
        .optExclude(name -> name.startsWith(PREDICTOR))
        .build()
        .apply(model, LegacyNames.upgrade(coco));
  }

  /**
   * Reads a checkpoint ({@code .pth} in either layout, {@code .safetensors} or {@code .npz}) and
   * loads it as {@link #loadAllButPredictor(FasterRcnn, StateDict)} does; the file's arrays are
   * freed once copied.
   *
   * @param model an initialised detector
   * @param checkpoint the file
   * @return what was loaded
   * @throws IOException if the file cannot be read
   * @throws dev.jdetect.models.weights.WeightImportException if a name outside the predictor is
   *     missing, unexpected or mis-shaped
   */
  public static ImportReport loadAllButPredictor(FasterRcnn model, Path checkpoint)
      throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      return loadAllButPredictor(model, StateDict.load(manager, checkpoint));
    }
  }
}
