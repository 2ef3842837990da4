package dev.jdetect.models.zoo;

import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.backbone.MobileNetV2;
import dev.jdetect.models.rcnn.FasterRcnnModels;
import dev.jdetect.models.ssd.SsdLite;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.models.ssd.SsdResNet50;
import dev.jdetect.models.ssd.TinySsd;
import java.util.Locale;
import java.util.function.Function;

/**
 * The names {@link ModelZoo#builtin()} knows.
 *
 * <table>
 *   <caption>built-in models</caption>
 *   <tr><th>name</th><th>model</th><th>input size</th><th>options</th></tr>
 *   <tr><td>{@code tiny-ssd}</td><td>{@link TinySsd} (D2L)</td><td>any (default 256)</td>
 *       <td>{@code scoreThreshold}, {@code nmsThreshold}, {@code maxDetections},
 *       {@code loss} ({@code d2l} or {@code multibox})</td></tr>
 *   <tr><td>{@code ssd-small}</td><td>{@link SmallModels#ssdSmall}</td>
 *       <td>any (default 256)</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-small}</td><td>{@link SmallModels#fasterRcnnSmall(int, int,
 *       int)}</td><td>any (default 256)</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-mobilenetv2-small}</td><td>{@link
 *       SmallModels#fasterRcnnSmall(dev.jdetect.models.Backbone, int, int, int)} on
 *       MobileNetV2</td><td>any (default 256)</td><td></td></tr>
 *   <tr><td>{@code retinanet-small}</td><td>{@link SmallDenseModels#retinaNetSmall}</td>
 *       <td>any (default 256)</td><td></td></tr>
 *   <tr><td>{@code fcos-small}</td><td>{@link SmallDenseModels#fcosSmall}</td>
 *       <td>any (default 256)</td><td></td></tr>
 *   <tr><td>{@code ssd300-vgg16}</td><td>{@link SsdModels#ssd300Vgg16}</td><td>300</td>
 *       <td></td></tr>
 *   <tr><td>{@code ssd512-vgg16}</td><td>{@link SsdModels#ssd512Vgg16}</td><td>512</td>
 *       <td></td></tr>
 *   <tr><td>{@code ssd300-resnet50}</td><td>{@link SsdResNet50#ssd300}</td><td>300</td>
 *       <td></td></tr>
 *   <tr><td>{@code ssdlite-mobilenetv2}</td><td>{@link SsdLite#mobileNetV2(int)}</td>
 *       <td>320</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-mobilenetv2}</td>
 *       <td>{@link FasterRcnnModels#fasterRcnnMobileNetV2}</td><td>800 / 1333</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-vgg16}</td><td>{@link FasterRcnnModels#fasterRcnnVgg16}</td>
 *       <td>600 / 1000</td><td></td></tr>
 *   <tr><td>{@code faster-rcnn-resnet50-c4}</td>
 *       <td>{@link FasterRcnnModels#fasterRcnnResNet50C4}</td><td>800 / 1333</td><td></td></tr>
 *   <tr><td>torchvision's names: {@code fasterrcnn_resnet50_fpn}, {@code
 *       fasterrcnn_mobilenet_v3_large_fpn}, {@code fasterrcnn_mobilenet_v3_large_320_fpn}, {@code
 *       retinanet_resnet50_fpn}, {@code retinanet_resnet50_fpn_v2}, {@code fcos_resnet50_fpn}</td>
 *       <td>{@link TorchvisionDetectors}, {@link TorchvisionDenseDetectors}</td>
 *       <td>320 / 640 or 800 / 1333</td><td>{@code trainableLayers}, {@code weights}
 *       (see {@link TorchvisionZooNames})</td></tr>
 * </table>
 *
 * <p>The configurations with a fixed input size resize images themselves and ignore the config's
 * input size; the small ones are built for it.
 */
final class BuiltinModels {

  /** The input side of the small models and TinySSD when a config gives none. */
  static final int DEFAULT_SMALL_INPUT = 256;

  private BuiltinModels() {}

  static void registerAll(ModelZoo zoo) {
    zoo.register("tiny-ssd", BuiltinModels::tinySsd);
    zoo.register("ssd-small", c -> SmallModels.ssdSmall(c.numClasses(), width(c), height(c)));
    zoo.register(
        "faster-rcnn-small", c -> SmallModels.fasterRcnnSmall(c.numClasses(), width(c), height(c)));
    zoo.register(
        "faster-rcnn-mobilenetv2-small",
        c ->
            SmallModels.fasterRcnnSmall(
                MobileNetV2.builder().build(), c.numClasses(), width(c), height(c)));
    zoo.register(
        "retinanet-small",
        c -> SmallDenseModels.retinaNetSmall(c.numClasses(), width(c), height(c)));
    zoo.register(
        "fcos-small", c -> SmallDenseModels.fcosSmall(c.numClasses(), width(c), height(c)));
    TorchvisionZooNames.registerAll(zoo);
    zoo.register("ssd300-vgg16", c -> SsdModels.ssd300Vgg16(c.numClasses()));
    zoo.register("ssd512-vgg16", c -> SsdModels.ssd512Vgg16(c.numClasses()));
    zoo.register("ssd300-resnet50", c -> SsdResNet50.ssd300(c.numClasses()));
    zoo.register("ssdlite-mobilenetv2", c -> SsdLite.mobileNetV2(c.numClasses()));
    zoo.register(
        "faster-rcnn-mobilenetv2", c -> FasterRcnnModels.fasterRcnnMobileNetV2(c.numClasses()));
    zoo.register("faster-rcnn-vgg16", c -> FasterRcnnModels.fasterRcnnVgg16(c.numClasses()));
    zoo.register(
        "faster-rcnn-resnet50-c4", c -> FasterRcnnModels.fasterRcnnResNet50C4(c.numClasses()));
  }

  private static int width(ModelConfig c) {
    return c.hasInputSize() ? c.inputWidth() : DEFAULT_SMALL_INPUT;
  }

  private static int height(ModelConfig c) {
    return c.hasInputSize() ? c.inputHeight() : DEFAULT_SMALL_INPUT;
  }

  private static DetectionModel tinySsd(ModelConfig c) {
    TinySsd.Builder b = TinySsd.builder().setNumClasses(c.numClasses());
    if (c.option("scoreThreshold") != null) {
      b.optScoreThreshold(parse(c, "scoreThreshold", Float::parseFloat, "a number"));
    }
    if (c.option("nmsThreshold") != null) {
      b.optNmsThreshold(parse(c, "nmsThreshold", Float::parseFloat, "a number"));
    }
    if (c.option("maxDetections") != null) {
      b.optMaxDetections(parse(c, "maxDetections", Integer::parseInt, "an integer"));
    }
    if (c.option("loss") != null) {
      b.optLossType(
          parse(
              c,
              "loss",
              v -> TinySsd.LossType.valueOf(v.toUpperCase(Locale.ROOT)),
              "d2l or multibox"));
    }
    return b.build();
  }

  private static <T> T parse(ModelConfig c, String key, Function<String, T> parser, String what) {
    String value = c.option(key);
    try {
      return parser.apply(value);
    } catch (IllegalArgumentException e) { // NumberFormatException or an unknown enum constant
      throw new IllegalArgumentException(
          "option '" + key + "' of model '" + c.name() + "' is not " + what + ": " + value, e);
    }
  }
}
