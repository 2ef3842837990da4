package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.backbone.Vgg16;
import dev.jdetect.models.weights.TorchvisionNames;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Full-size parameter counts equal torchvision's (printed by gen_models_rcnn.py). */
class FasterRcnnParameterCountTest {

  /** Counts like torchvision's {@code parameters()}: batch-norm running statistics are buffers. */
  private static long count(Block block) {
    long n = 0;
    for (Pair<String, Parameter> p : block.getParameters()) {
      Parameter.Type type = p.getValue().getType();
      if (type == Parameter.Type.RUNNING_MEAN || type == Parameter.Type.RUNNING_VAR) {
        continue;
      }
      n += p.getValue().getArray().getShape().size();
    }
    return n;
  }

  private static long expected(Map<String, NDArray> counts, String key) {
    return counts.get(key).toLongArray()[0];
  }

  private static void check(
      NDManager manager, FasterRcnn model, Map<String, NDArray> counts, String prefix) {
    try (NDManager scope = manager.newSubManager()) {
      model.initialize(scope, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertEquals(expected(counts, prefix + "_backbone"), count(model.getBackbone()), "backbone");
      assertEquals(expected(counts, prefix + "_rpn"), count(model.getRpn()), "rpn");
      assertEquals(expected(counts, prefix + "_roi_heads"), count(model.getRoiHeads()), "heads");
      assertEquals(expected(counts, prefix + "_total"), count(model), "total");
      // every parameter has a torchvision name
      assertEquals(model.getParameters().size(), TorchvisionNames.of(model).size());
    }
  }

  @Test
  void mobileNetV2MatchesTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> counts = RcnnFixtures.load(manager, "param_counts.npz");
      check(manager, FasterRcnnModels.fasterRcnnMobileNetV2(90), counts, "mobilenet_v2");
    }
  }

  @Test
  void vgg16TorchvisionStyleMatchesTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> counts = RcnnFixtures.load(manager, "param_counts.npz");
      FasterRcnn model =
          FasterRcnn.builder()
              .setBackbone(Vgg16.builder().optForm(Vgg16.Form.CONV5_3).build())
              .setRpn(
                  RegionProposalNetwork.builder()
                      .setInChannels(512)
                      .optAnchorGenerator(AnchorGenerator.builder().build())
                      .build())
              .setRoiHeads(
                  RoiHeads.builder()
                      .setPooler(RoiPoolers.roiPool(7, 1f / 16))
                      .optBoxHead(TwoMlpHead.builder().optUnits(4096).build())
                      .setNumClasses(20)
                      .build())
              .build();
      check(manager, model, counts, "vgg16");
    }
  }

  @Test
  void vgg16ClassicHasTheSoftmaxObjectnessExtraLogits() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> counts = RcnnFixtures.load(manager, "param_counts.npz");
      FasterRcnn model = FasterRcnnModels.fasterRcnnVgg16(20);
      try (NDManager scope = manager.newSubManager()) {
        model.initialize(scope, DataType.FLOAT32, new Shape(1, 3, 64, 64));
        assertEquals(expected(counts, "vgg16_classic_rpn"), count(model.getRpn()));
        assertEquals(expected(counts, "vgg16_classic_total"), count(model));
        assertEquals(
            new Shape(18, 512, 1, 1),
            TorchvisionNames.of(model).get("rpn.head.cls_logits.weight").getArray().getShape());
      }
    }
  }
}
