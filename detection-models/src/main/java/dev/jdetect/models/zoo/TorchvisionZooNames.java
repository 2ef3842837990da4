package dev.jdetect.models.zoo;

import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * Registers torchvision's FPN Faster R-CNN, RetinaNet and FCOS builders under torchvision's own
 * names, so a model imported from a torchvision {@code .pth} and saved with {@code SavedModel}
 * rebuilds from its {@code model.json}.
 *
 * <p>Options: {@code trainableLayers} (backbone stages that train, counted from the top; default 3,
 * torchvision's value with a pretrained backbone) and {@code weights} ({@code COCO_V1}: build the
 * model as torchvision does for its COCO weights, i.e. with batch-norm epsilon 0 where torchvision
 * overwrites it; any other value or none: the same architecture) and, for the two MobileNetV3
 * Faster R-CNNs, {@code scratch} ({@code true}: the model as torchvision builds it without any
 * weights, with trainable batch norms and every stage trainable, for training from scratch).
 */
final class TorchvisionZooNames {

  /** A torchvision builder: classes without background and trainable backbone stages. */
  @FunctionalInterface
  private interface Builder {
    DetectionModel build(int numClasses, int trainableLayers);
  }

  private TorchvisionZooNames() {}

  static void registerAll(ModelZoo zoo) {
    register(zoo, "fasterrcnn_resnet50_fpn", TorchvisionDetectors::fasterRcnnResNet50Fpn, true);
    register(
        zoo, "fasterrcnn_resnet50_fpn_v2", TorchvisionDetectors::fasterRcnnResNet50FpnV2, false);
    register(
        zoo,
        "fasterrcnn_mobilenet_v3_large_fpn",
        TorchvisionDetectors::fasterRcnnMobileNetV3LargeFpn,
        TorchvisionDetectors::fasterRcnnMobileNetV3LargeFpnFromScratch);
    register(
        zoo,
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        TorchvisionDetectors::fasterRcnnMobileNetV3Large320Fpn,
        TorchvisionDetectors::fasterRcnnMobileNetV3Large320FpnFromScratch);
    register(zoo, "retinanet_resnet50_fpn", TorchvisionDenseDetectors::retinaNetResNet50Fpn, true);
    register(
        zoo, "retinanet_resnet50_fpn_v2", TorchvisionDenseDetectors::retinaNetResNet50FpnV2, false);
    register(zoo, "fcos_resnet50_fpn", TorchvisionDenseDetectors::fcosResNet50Fpn, false);
    // torchvision trains all six MobileNetV3 stages of SSDlite by default
    register(
        zoo,
        "ssdlite320_mobilenet_v3_large",
        (classes, layers) -> TorchvisionDetectors.ssdLite320MobileNetV3Large(classes, layers),
        false,
        6);
  }

  /** Registers a builder that also has torchvision's from-scratch variant (option scratch). */
  private static void register(
      ModelZoo zoo, String name, Builder builder, IntFunction<DetectionModel> fromScratch) {
    zoo.register(
        name,
        c -> {
          String scratch = c.option("scratch");
          if (scratch == null || "false".equals(scratch)) {
            return builder.build(c.numClasses(), trainableLayers(c, 3));
          }
          if (!"true".equals(scratch)) {
            throw new IllegalArgumentException(
                "option 'scratch' of model '" + c.name() + "' must be true or false: " + scratch);
          }
          if (c.option("trainableLayers") != null) {
            throw new IllegalArgumentException(
                "model '"
                    + c.name()
                    + "' trains every backbone stage from scratch; option 'trainableLayers' does"
                    + " not apply with scratch=true");
          }
          return fromScratch.apply(c.numClasses());
        });
  }

  /**
   * Registers one builder.
   *
   * @param cocoEpsZero whether torchvision sets the frozen batch norms' epsilon to 0 for its COCO
   *     weights
   */
  private static void register(ModelZoo zoo, String name, Builder builder, boolean cocoEpsZero) {
    register(zoo, name, builder, cocoEpsZero, 3);
  }

  private static void register(
      ModelZoo zoo, String name, Builder builder, boolean cocoEpsZero, int defaultTrainable) {
    zoo.register(
        name,
        c -> {
          DetectionModel model =
              builder.build(c.numClasses(), trainableLayers(c, defaultTrainable));
          String weights = c.option("weights");
          if (cocoEpsZero
              && weights != null
              && "COCO_V1".equals(weights.toUpperCase(Locale.ROOT))) {
            FrozenBatchNorm2d.overwriteEps(model, 0f);
          }
          return model;
        });
  }

  private static int trainableLayers(ModelConfig c, int defaultTrainable) {
    String value = c.option("trainableLayers");
    if (value == null) {
      return defaultTrainable;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "option 'trainableLayers' of model '" + c.name() + "' is not an integer: " + value, e);
    }
  }
}
