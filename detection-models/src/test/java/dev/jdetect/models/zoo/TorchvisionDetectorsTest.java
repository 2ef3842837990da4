package dev.jdetect.models.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.weights.TorchvisionNames;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** State-dict names and shapes equal torchvision 0.14.1's builders (gen_models_zoo.py). */
class TorchvisionDetectorsTest {

  private static void assertLayout(String builder, Supplier<? extends Block> factory)
      throws IOException {
    assertLayout(builder, factory, 64);
  }

  private static void assertLayout(String builder, Supplier<? extends Block> factory, int size)
      throws IOException {
    List<String> want;
    try (InputStream in =
        TorchvisionDetectorsTest.class.getResourceAsStream("/fixtures/zoo/" + builder + ".txt")) {
      want = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
    }
    Block model = factory.get();
    try (NDManager manager = NDManager.newBaseManager()) {
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, size, size));
      List<String> got = new ArrayList<>();
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
        long[] dims = e.getValue().getArray().getShape().getShape();
        StringBuilder line = new StringBuilder(e.getKey()).append(' ');
        for (int d = 0; d < dims.length; d++) {
          line.append(d == 0 ? "" : ",").append(dims[d]);
        }
        got.add(line.toString());
      }
      assertEquals(want, got, builder);
      // torchvision's parameters() of the generator's models (plain batch norms: their weight and
      // bias count, their running statistics do not)
      long count = 0;
      for (Parameter p : model.getParameters().values()) {
        Parameter.Type t = p.getType();
        if (t != Parameter.Type.RUNNING_MEAN && t != Parameter.Type.RUNNING_VAR) {
          count += p.getArray().size();
        }
      }
      assertEquals(Long.parseLong(counts().getProperty(builder)), count, builder + " parameters");
    }
  }

  private static Properties counts() throws IOException {
    Properties p = new Properties();
    try (InputStream in =
        TorchvisionDetectorsTest.class.getResourceAsStream(
            "/fixtures/zoo/param_counts.properties")) {
      p.load(in);
    }
    return p;
  }

  @Test
  void resNet50FpnIsTorchvisions() throws IOException {
    assertLayout("fasterrcnn_resnet50_fpn", TorchvisionDetectors::fasterRcnnResNet50FpnCoco);
  }

  @Test
  void mobileNetV3LargeFpnIsTorchvisions() throws IOException {
    assertLayout(
        "fasterrcnn_mobilenet_v3_large_fpn",
        () -> TorchvisionDetectors.fasterRcnnMobileNetV3LargeFpn(90, 3));
    assertLayout(
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        () -> TorchvisionDetectors.fasterRcnnMobileNetV3Large320Fpn(90, 3));
  }

  @Test
  void mobileNetV3FromScratchHasTheSameNamesAndTrainsEveryNorm() throws IOException {
    assertLayout(
        "fasterrcnn_mobilenet_v3_large_fpn",
        () -> TorchvisionDetectors.fasterRcnnMobileNetV3LargeFpnFromScratch(90));
    assertLayout(
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        () -> TorchvisionDetectors.fasterRcnnMobileNetV3Large320FpnFromScratch(90));
    FasterRcnn scratch = TorchvisionDetectors.fasterRcnnMobileNetV3Large320FpnFromScratch(3);
    FasterRcnn pretrained = TorchvisionDetectors.fasterRcnnMobileNetV3Large320Fpn(3, 3);
    // torchvision without weights: nn.BatchNorm2d (no frozen norm) and all six stages trainable
    assertEquals(0, FrozenBatchNorm2d.overwriteEps(scratch, 1e-5f));
    // 46 norms in the backbone (the fixture's backbone.body.*.running_var entries)
    assertEquals(46, FrozenBatchNorm2d.overwriteEps(pretrained, 1e-5f));
    long frozen =
        TorchvisionNames.of(scratch).values().stream()
            .filter(p -> p.getType() == Parameter.Type.WEIGHT && !p.requiresGradient())
            .count();
    assertEquals(0, frozen, "every weight trains from scratch");
    try (NDManager manager = NDManager.newBaseManager()) {
      scratch.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      ParameterStore store = new ParameterStore(manager, false);
      ImageBatch batch =
          scratch.transform(new NDList(manager.randomUniform(0f, 1f, new Shape(1, 3, 64, 64))));
      // training mode reaches the backbone's norms: their running means move
      Parameter mean = TorchvisionNames.of(scratch).get("backbone.body.0.1.running_mean");
      float before = mean.getArray().sum().getFloat();
      scratch.features(store, batch, true);
      assertNotEquals(before, mean.getArray().sum().getFloat());
    }
  }

  @Test
  void resNet50FpnV2IsTorchvisions() throws IOException {
    assertLayout("fasterrcnn_resnet50_fpn_v2", TorchvisionDetectors::fasterRcnnResNet50FpnV2Coco);
    // plain batch norms, none frozen: eps changes nothing
    assertEquals(
        0, FrozenBatchNorm2d.overwriteEps(TorchvisionDetectors.fasterRcnnResNet50FpnV2Coco(), 0f));
  }

  @Test
  void ssdLite320MobileNetV3LargeIsTorchvisions() throws IOException {
    assertLayout(
        "ssdlite320_mobilenet_v3_large", TorchvisionDetectors::ssdLite320MobileNetV3LargeCoco, 320);
    Ssd model = TorchvisionDetectors.ssdLite320MobileNetV3LargeCoco();
    // torchvision: 20, 10, 5, 3, 2, 1 maps of 672, 480, 512, 256, 256, 128 channels
    assertArrayEquals(new int[] {672, 480, 512, 256, 256, 128}, model.backbone().outChannels());
    assertArrayEquals(
        new int[] {6, 6, 6, 6, 6, 6}, model.anchorGenerator().numAnchorsPerLocation());
  }

  @Test
  void cocoV1WeightsUseEpsilonZero() {
    FasterRcnn coco = TorchvisionDetectors.fasterRcnnResNet50FpnCoco();
    // 53 frozen norms in ResNet-50, all set to 0 (torchvision's overwrite_eps)
    assertEquals(53, FrozenBatchNorm2d.overwriteEps(coco, 0f));
    FasterRcnn fresh = TorchvisionDetectors.fasterRcnnResNet50Fpn(3, 3);
    assertEquals(53, FrozenBatchNorm2d.overwriteEps(fresh, 1e-5f));
  }

  @Test
  void cocoNamesFollowTorchvisionsOrder() {
    assertEquals(91, CocoCategories.names().size());
    assertEquals("__background__", CocoCategories.name(0));
    assertEquals("person", CocoCategories.name(1));
    assertEquals("N/A", CocoCategories.name(12));
    assertEquals("stop sign", CocoCategories.name(13));
    assertEquals("toothbrush", CocoCategories.name(90));
    assertThrows(IllegalArgumentException.class, () -> CocoCategories.name(91));
  }
}
