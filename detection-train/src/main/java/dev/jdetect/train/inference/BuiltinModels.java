package dev.jdetect.train.inference;

import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.rcnn.FasterRcnnModels;
import dev.jdetect.models.ssd.SsdLite;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.models.ssd.TinySsd;

/**
 * The model types {@link ModelRegistry#withDefaults()} knows:
 *
 * <table>
 *   <caption>built-in model types</caption>
 *   <tr><th>modelType</th><th>model</th><th>options</th></tr>
 *   <tr><td>{@code tiny-ssd}</td><td>{@link TinySsd} (D2L)</td>
 *       <td>{@code scoreThreshold}, {@code nmsThreshold}, {@code maxDetections}</td></tr>
 *   <tr><td>{@code ssd300-vgg16}</td><td>{@link SsdModels#ssd300Vgg16}</td><td></td></tr>
 *   <tr><td>{@code ssd512-vgg16}</td><td>{@link SsdModels#ssd512Vgg16}</td><td></td></tr>
 *   <tr><td>{@code ssdlite-mobilenetv2}</td><td>{@link SsdLite#mobileNetV2(int)}</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-mobilenetv2}</td>
 *       <td>{@link FasterRcnnModels#fasterRcnnMobileNetV2}</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-vgg16}</td><td>{@link FasterRcnnModels#fasterRcnnVgg16}</td>
 *       <td></td></tr>
 *   <tr><td>{@code faster-rcnn-resnet50-c4}</td>
 *       <td>{@link FasterRcnnModels#fasterRcnnResNet50C4}</td><td></td></tr>
 * </table>
 *
 * <p>To add a type, write a method building the model from a {@link ModelDescription} and register
 * it in {@link #registerAll}.
 */
final class BuiltinModels {

  private BuiltinModels() {}

  static void registerAll(ModelRegistry registry) {
    registry.register("tiny-ssd", BuiltinModels::tinySsd);
    registry.register("ssd300-vgg16", d -> SsdModels.ssd300Vgg16(numClasses(d)));
    registry.register("ssd512-vgg16", d -> SsdModels.ssd512Vgg16(numClasses(d)));
    registry.register("ssdlite-mobilenetv2", d -> SsdLite.mobileNetV2(numClasses(d)));
    registry.register(
        "faster-rcnn-mobilenetv2", d -> FasterRcnnModels.fasterRcnnMobileNetV2(numClasses(d)));
    registry.register("faster-rcnn-vgg16", d -> FasterRcnnModels.fasterRcnnVgg16(numClasses(d)));
    registry.register(
        "faster-rcnn-resnet50-c4", d -> FasterRcnnModels.fasterRcnnResNet50C4(numClasses(d)));
  }

  private static int numClasses(ModelDescription d) {
    return d.getClasses().size();
  }

  private static DetectionModel tinySsd(ModelDescription d) {
    TinySsd.Builder b = TinySsd.builder().setNumClasses(numClasses(d));
    String score = d.getOption("scoreThreshold", null);
    if (score != null) {
      b.optScoreThreshold(parseFloat(d, "scoreThreshold", score));
    }
    String nms = d.getOption("nmsThreshold", null);
    if (nms != null) {
      b.optNmsThreshold(parseFloat(d, "nmsThreshold", nms));
    }
    String max = d.getOption("maxDetections", null);
    if (max != null) {
      try {
        b.optMaxDetections(Integer.parseInt(max));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("option 'maxDetections' is not an integer: " + max, e);
      }
    }
    return b.build();
  }

  private static float parseFloat(ModelDescription d, String key, String value) {
    try {
      return Float.parseFloat(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "option '" + key + "' of model type '" + d.getModelType() + "' is not a number: " + value,
          e);
    }
  }
}
