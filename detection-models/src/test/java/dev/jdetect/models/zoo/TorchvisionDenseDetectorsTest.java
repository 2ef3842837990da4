package dev.jdetect.models.zoo;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.backbone.FrozenBatchNorm2d;
import dev.jdetect.models.dense.DenseDetector;
import dev.jdetect.models.dense.Fcos;
import dev.jdetect.models.dense.RetinaNet;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.LastLevelP6P7;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.testkit.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * State-dict names, shapes, parameter counts and anchors equal torchvision 0.14.1's RetinaNet
 * builders (gen_models_dense.py).
 */
class TorchvisionDenseDetectorsTest {

  private static String read(String resource) throws IOException {
    try (InputStream in = TorchvisionDenseDetectorsTest.class.getResourceAsStream(resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static void assertLayout(String builder, Supplier<? extends DenseDetector> factory)
      throws IOException {
    List<String> want = List.of(read("/fixtures/zoo/" + builder + ".txt").split("\n"));
    Properties counts = new Properties();
    counts.load(new StringReader(read("/fixtures/zoo/dense_param_counts.properties")));
    DenseDetector model = factory.get();
    try (NDManager manager = NDManager.newBaseManager()) {
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      List<String> got = new ArrayList<>();
      long parameters = 0;
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(model).entrySet()) {
        long[] dims = e.getValue().getArray().getShape().getShape();
        StringBuilder line = new StringBuilder(e.getKey()).append(' ');
        for (int d = 0; d < dims.length; d++) {
          line.append(d == 0 ? "" : ",").append(dims[d]);
        }
        got.add(line.toString());
        if (!e.getKey().endsWith("running_mean") && !e.getKey().endsWith("running_var")) {
          parameters += e.getValue().getArray().size();
        }
      }
      assertEquals(want, got, builder);
      assertEquals(
          Long.parseLong(counts.getProperty(builder)), parameters, builder + " parameters");
    }
  }

  private static LastLevelP6P7 extraLevels(RetinaNet model) {
    for (Block child : ((BackboneWithFpn) model.getBackbone()).fpn().getChildren().values()) {
      if (child instanceof LastLevelP6P7) {
        return (LastLevelP6P7) child;
      }
    }
    throw new AssertionError("no LastLevelP6P7 in the pyramid");
  }

  @Test
  void resNet50FpnIsTorchvisions() throws IOException {
    assertLayout("retinanet_resnet50_fpn", TorchvisionDenseDetectors::retinaNetResNet50FpnCoco);
    RetinaNet v1 = TorchvisionDenseDetectors.retinaNetResNet50Fpn(20, 3);
    assertEquals(20, v1.numClasses());
    // torchvision 0.14.1: v1 computes P6 from P5 (LastLevelP6P7(256, 256)), v2 from C5
    assertTrue(extraLevels(v1).usesP5());
    assertFalse(extraLevels(TorchvisionDenseDetectors.retinaNetResNet50FpnV2(20, 5)).usesP5());
  }

  @Test
  void resNet50FpnV2IsTorchvisions() throws IOException {
    assertLayout(
        "retinanet_resnet50_fpn_v2", TorchvisionDenseDetectors::retinaNetResNet50FpnV2Coco);
  }

  @Test
  void fcosResNet50FpnIsTorchvisions() throws IOException {
    assertLayout("fcos_resnet50_fpn", TorchvisionDenseDetectors::fcosResNet50FpnCoco);
    Fcos fcos = TorchvisionDenseDetectors.fcosResNet50Fpn(20, 3);
    assertEquals(20, fcos.numClasses());
    assertEquals(3, fcos.lossNames().length);
    // one point per location: anchors of the level's stride, ratio 1
    assertEquals(5, fcos.getAnchorGenerator().numLevels());
    for (int n : fcos.getAnchorGenerator().numAnchorsPerLocation()) {
      assertEquals(1, n);
    }
  }

  @Test
  void cocoV1WeightsUseEpsilonZeroAndV2HasNoFrozenNorms() {
    RetinaNet coco = TorchvisionDenseDetectors.retinaNetResNet50FpnCoco();
    // 53 frozen norms in ResNet-50, all set to 0 (torchvision's overwrite_eps)
    assertEquals(53, FrozenBatchNorm2d.overwriteEps(coco, 0f));
    assertEquals(
        0,
        FrozenBatchNorm2d.overwriteEps(TorchvisionDenseDetectors.retinaNetResNet50FpnV2Coco(), 0f));
  }

  @Test
  void anchorsAreTorchvisions() {
    AnchorGenerator anchors = TorchvisionDenseDetectors.anchors();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList cells = Fixtures.load(manager, "/fixtures/zoo/retinanet_cell_anchors.npz");
      assertEquals(5, anchors.numLevels());
      for (int l = 0; l < 5; l++) {
        assertClose(
            Fixtures.get(cells, "level_" + l), anchors.cellAnchors(manager, l), 0f, "level " + l);
      }
      assertFalse(anchors.toString().isEmpty());
    }
  }
}
