package dev.jdetect.examples;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.SsdLite;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.train.Seeds;
import dev.jdetect.train.data.AnnotationSet;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Trains an SSD on a Pascal VOC or COCO directory, or by default on a generated shapes set, and
 * reports VOC mAP@0.5 on the validation split.
 *
 * <p>Models ({@code --model}): {@code ssd-small} (default; {@link SmallBackbone} with four sources,
 * trains from scratch on a CPU), {@code ssdlite-mobilenetv2} and {@code ssd300-vgg16}
 * (torchvision's configurations; from scratch they need far more compute than a CPU run).
 *
 * <p>Defaults: 800 generated shapes images (640 train, 160 validation), 256x256 input, SGD 0.02
 * with momentum, warm-up then cosine, 60 epochs (measured on 2 CPU cores: validation mAP@0.5 0.939
 * in about 13 minutes, 0.90 or more from epoch 20).
 *
 * <p>Example: {@code TrainSsd --voc VOCdevkit/VOC2007 --model ssd300-vgg16 --input 300}.
 */
public final class TrainSsd {

  private TrainSsd() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   * @throws IOException if files cannot be read or written
   */
  public static void main(String[] args) throws IOException {
    CommandLine cli =
        DatasetTraining.options(
            new CommandLine(
                "TrainSsd",
                "Trains an SSD (ssd-small, ssdlite-mobilenetv2, ssd300-vgg16) on VOC, COCO or a"
                    + " generated shapes set."),
            ExampleModels.SSD_SMALL,
            800,
            256,
            60,
            "sgd",
            0.02);
    if (!cli.parse(args)) {
      return;
    }
    Path out = cli.getPath("out");
    AnnotationSet[] sets = DatasetTraining.load(cli, out);
    int numClasses = sets[0].getNumClasses();
    int input = cli.getInt("input");
    String type = cli.get("model");
    Ssd model;
    switch (type) {
      case ExampleModels.SSD_SMALL:
        model = ExampleModels.ssdSmall(numClasses, input);
        break;
      case "ssdlite-mobilenetv2":
        model = SsdLite.mobileNetV2(numClasses);
        break;
      case "ssd300-vgg16":
        model = SsdModels.ssd300Vgg16(numClasses);
        break;
      default:
        throw new IllegalArgumentException(
            "--model must be ssd-small, ssdlite-mobilenetv2 or ssd300-vgg16, got " + type);
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      Seeds.initialize(
          model,
          manager,
          Long.parseLong(cli.get("seed")),
          DataType.FLOAT32,
          ExampleModels.inputShape(input));
      DatasetTraining.run(cli, model, type, sets[0], sets[1], out);
    }
  }
}
