package dev.jdetect.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.gson.GsonBuilder;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.inference.ImageTensors;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.models.zoo.CocoCategories;
import dev.jdetect.models.zoo.TorchvisionDenseDetectors;
import dev.jdetect.models.zoo.TorchvisionDetectors;
import dev.jdetect.train.data.ImageFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Runs one of torchvision's detection builders, rebuilt by jdetect's zoo, with a {@code .pth} file
 * written by {@code torch.save} on photos, and writes the detections as JSON for {@code
 * src/fixtures/check_torchvision_fullsize.py}, which compares them with torchvision's.
 */
@Command(
    name = "TorchvisionCheck",
    description = {
      "Loads a torchvision .pth into jdetect's rebuild of a torchvision detector, runs it on"
          + " images and writes boxes, scores and labels per image as JSON."
    })
public final class TorchvisionCheck implements Callable<Integer> {

  @Option(
      names = "--model",
      paramLabel = "NAME",
      required = true,
      description =
          "fasterrcnn_resnet50_fpn, fasterrcnn_resnet50_fpn_v2,"
              + " fasterrcnn_mobilenet_v3_large_fpn, fasterrcnn_mobilenet_v3_large_320_fpn,"
              + " ssdlite320_mobilenet_v3_large, retinanet_resnet50_fpn,"
              + " retinanet_resnet50_fpn_v2 or fcos_resnet50_fpn.")
  String model;

  @Option(
      names = "--weights",
      paramLabel = "FILE",
      required = true,
      description = "The state_dict saved by torch.save.")
  Path weights;

  @Option(names = "--out", paramLabel = "FILE", required = true, description = "JSON to write.")
  Path out;

  @Parameters(paramLabel = "IMAGE", arity = "1..*", description = "Photos to detect on.")
  List<Path> images;

  private TorchvisionCheck() {}

  /**
   * Runs the check's Java side.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(TorchvisionCheck.class, args);
  }

  static DetectionModel build(String name) {
    switch (name) {
      case "fasterrcnn_resnet50_fpn":
        return TorchvisionDetectors.fasterRcnnResNet50Fpn(TorchvisionDetectors.COCO_CLASSES, 3);
      case "fasterrcnn_resnet50_fpn_v2":
        return TorchvisionDetectors.fasterRcnnResNet50FpnV2(TorchvisionDetectors.COCO_CLASSES, 3);
      case "ssdlite320_mobilenet_v3_large":
        return TorchvisionDetectors.ssdLite320MobileNetV3Large(
            TorchvisionDetectors.COCO_CLASSES, 6);
      case "fasterrcnn_mobilenet_v3_large_fpn":
        return TorchvisionDetectors.fasterRcnnMobileNetV3LargeFpn(
            TorchvisionDetectors.COCO_CLASSES, 3);
      case "fasterrcnn_mobilenet_v3_large_320_fpn":
        return TorchvisionDetectors.fasterRcnnMobileNetV3Large320Fpn(
            TorchvisionDetectors.COCO_CLASSES, 3);
      case "retinanet_resnet50_fpn":
        return TorchvisionDenseDetectors.retinaNetResNet50Fpn(TorchvisionDetectors.COCO_CLASSES, 3);
      case "retinanet_resnet50_fpn_v2":
        return TorchvisionDenseDetectors.retinaNetResNet50FpnV2(
            TorchvisionDetectors.COCO_CLASSES, 3);
      case "fcos_resnet50_fpn":
        return TorchvisionDenseDetectors.fcosResNet50Fpn(TorchvisionDetectors.COCO_CLASSES, 3);
      default:
        throw new IllegalArgumentException("unknown model " + name);
    }
  }

  @Override
  public Integer call() throws IOException {
    DetectionModel detector = build(model);
    Map<String, Object> results = new LinkedHashMap<>();
    try (NDManager manager = NDManager.newBaseManager();
        Autograd.NoGradient ignored = Autograd.noGradient()) {
      detector.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 320, 320));
      ImportReport report = WeightImport.load(detector, weights);
      System.out.println(model + ": " + report.loaded().size() + " tensors loaded");
      ParameterStore ps = new ParameterStore(manager, false);
      for (Path image : images) {
        try (NDManager scope = manager.newSubManager()) {
          NDArray chw = ImageTensors.toChw(scope, ImageFiles.read(image));
          NDArray batch = chw.expandDims(0);
          long start = System.nanoTime();
          NDList out = detector.forward(ps, new NDList(batch), false);
          double seconds = (System.nanoTime() - start) / 1e9;
          Detections d = Detections.fromNDList(out).get(0);
          Map<String, Object> entry = new LinkedHashMap<>();
          entry.put("boxes", d.boxes().toFloatArray());
          entry.put("scores", d.scores().toFloatArray());
          long[] labels = d.labels().toLongArray();
          entry.put("labels", labels);
          entry.put("first_names", labels.length == 0 ? "" : CocoCategories.name(labels[0]));
          entry.put("seconds", seconds);
          results.put(image.getFileName().toString(), entry);
          System.out.printf("%s: %d detections in %.2f s%n", image, labels.length, seconds);
        }
      }
    }
    Files.writeString(out, new GsonBuilder().create().toJson(results), StandardCharsets.UTF_8);
    return 0;
  }
}
