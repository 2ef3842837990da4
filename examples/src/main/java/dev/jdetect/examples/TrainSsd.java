package dev.jdetect.examples;

import dev.jdetect.examples.cli.Cli;
import picocli.CommandLine.Command;

/**
 * Trains an SSD on a Pascal VOC or COCO directory, or by default on a generated shapes set, and
 * reports VOC mAP@0.5 on the validation split.
 *
 * <p>Models ({@code --model}, any name of the model zoo): {@code ssd-small} (default; a small
 * backbone with four sources that trains from scratch on a CPU), {@code ssdlite-mobilenetv2},
 * {@code ssd300-vgg16}, {@code ssd512-vgg16} and {@code ssd300-resnet50} (torchvision's and the
 * papers' configurations; from scratch they need far more compute than a CPU run).
 *
 * <p>Defaults: 800 generated shapes images (640 train, 160 validation), 256x256 input, SGD 0.02
 * with momentum, warm-up then cosine, 30 epochs (measured on 2 CPU cores: validation mAP@0.5 0.924
 * in about 12 minutes, 0.90 or more from epoch 19, about 7 minutes in).
 *
 * <p>Example: {@code TrainSsd --voc VOCdevkit/VOC2007 --model ssd300-vgg16 --input 300}.
 */
@Command(
    name = "TrainSsd",
    description = {
      "Trains an SSD on a VOC or COCO directory, or on a generated shapes set by default, and"
          + " reports VOC mAP@0.5 on the validation split after every epoch.",
      "Writes <out>/metrics.csv and .png, a checkpoint per epoch, the model directory <out>/model"
          + " (for Detect) and drawn predictions."
    })
public final class TrainSsd extends DatasetTraining {

  private TrainSsd() {
    super(new TrainingOptions("runs/ssd-small", 256, 30, 0.02), "ssd-small", OptimizerChoice.SGD);
  }

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(TrainSsd.class, args);
  }
}
