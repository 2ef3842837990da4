package dev.jdetect.examples;

import dev.jdetect.examples.cli.Cli;
import picocli.CommandLine.Command;

/**
 * Trains a Faster R-CNN on a Pascal VOC or COCO directory, or by default on a generated shapes set,
 * and reports VOC mAP@0.5 on the validation split.
 *
 * <p>Models ({@code --model}, any name of the model zoo): {@code faster-rcnn-small} (default; a
 * small backbone at stride 16, anchors 16-128 px, trains from scratch on a CPU), {@code
 * faster-rcnn-mobilenetv2-small} (torchvision's MobileNetV2 backbone with the same small-image RPN
 * and heads; slower) and torchvision's configurations ({@code faster-rcnn-mobilenetv2}, {@code
 * faster-rcnn-vgg16}, {@code faster-rcnn-resnet50-c4}), which resize images to 600-800 pixels
 * themselves. The single-stage {@code retinanet-small} and {@code fcos-small} (the same kind of
 * backbone under a feature pyramid) train with the same settings; they overfit the default 640
 * training images and want more ({@code --images 2400 --epochs 12}: {@code fcos-small} 0.940,
 * {@code retinanet-small} 0.916).
 *
 * <p>Defaults: 800 generated shapes images (640 train, 160 validation), 256x256 input, Adam 1e-3
 * with warm-up then cosine, 15 epochs. Measured on 2 CPU cores: validation mAP@0.5 0.946 in about
 * 15 minutes, 0.90 or more from epoch 10 (about 9.5 minutes in).
 *
 * <p>Example: {@code TrainFasterRcnn --voc VOCdevkit/VOC2007 --input 512 --epochs 12}.
 */
@Command(
    name = "TrainFasterRcnn",
    description = {
      "Trains a Faster R-CNN on a VOC or COCO directory, or on a generated shapes set by default,"
          + " and reports VOC mAP@0.5 on the validation split after every epoch.",
      "Writes <out>/metrics.csv and .png, a checkpoint per epoch, the model directory <out>/model"
          + " (for Detect) and drawn predictions."
    })
public final class TrainFasterRcnn extends DatasetTraining {

  private TrainFasterRcnn() {
    super(
        new TrainingOptions("runs/faster-rcnn-small", 256, 15, 0.001),
        "faster-rcnn-small",
        OptimizerChoice.ADAM);
  }

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(TrainFasterRcnn.class, args);
  }
}
