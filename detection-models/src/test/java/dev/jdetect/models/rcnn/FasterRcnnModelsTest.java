package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Detections;
import dev.jdetect.models.weights.TorchvisionNames;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Factories and input forms. */
class FasterRcnnModelsTest {

  @Test
  void batchArrayAndImageListGiveTheSameDetections() {
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model = RcnnFixtures.twoLevel(false);
      RcnnFixtures.loadWeights(manager, model, "two_level");
      ParameterStore ps = new ParameterStore(manager, false);
      NDList images = FasterRcnnTrainingTest.syntheticImages(manager);
      NDArray stacked = NDArrays.stack(images, 0);
      List<Detections> separate = model.detect(ps, images);
      List<Detections> batched = model.detect(ps, new NDList(stacked));
      assertEquals(2, batched.size());
      for (int i = 0; i < 2; i++) {
        assertTrue(separate.get(i).size() > 0);
        FasterRcnnFixtureTest.assertClose(
            separate.get(i).boxes(), batched.get(i).boxes(), 1e-5f, "boxes " + i);
        FasterRcnnFixtureTest.assertClose(
            separate.get(i).scores(), batched.get(i).scores(), 1e-6f, "scores " + i);
        // boxes are in the 72x96 input pixels
        float[] b = batched.get(i).boxes().toFloatArray();
        for (int j = 0; j < b.length; j += 4) {
          assertTrue(b[j] >= 0 && b[j + 2] <= 96 && b[j + 1] >= 0 && b[j + 3] <= 72);
        }
      }
    }
  }

  @Test
  void temporariesDoNotAccumulateOnTheCallersManager() {
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model = RcnnFixtures.twoLevel(false);
      RcnnFixtures.loadWeights(manager, model, "two_level");
      ParameterStore ps = new ParameterStore(manager, false);
      NDList images = FasterRcnnTrainingTest.syntheticImages(manager);
      model.detect(ps, images); // warm-up
      int before = manager.getManagedArrays().size();
      List<Detections> kept = model.detect(ps, images);
      // only the 3 result arrays per image stay
      assertEquals(before + 6, manager.getManagedArrays().size());
      try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
        scope.suppressNotUsedWarning();
        model.detect(ps, images);
        model.forward(ps, images, FasterRcnnTrainingTest.syntheticTargets(manager), null);
      }
      // inside a caller's scope even the results are released (targets were made in the scope)
      assertEquals(before + 6, manager.getManagedArrays().size());
      assertEquals(2, kept.size());
    }
  }

  @Test
  void backboneTrainingModeCanBeKeptOff() {
    try (NDManager manager = NDManager.newBaseManager()) {
      for (boolean mode : new boolean[] {true, false}) {
        TinyBackbones.OneLevel backbone = new TinyBackbones.OneLevel();
        FasterRcnn base = RcnnFixtures.roiPool(false);
        FasterRcnn model =
            FasterRcnn.builder()
                .setBackbone(backbone)
                .optTransform(base.getTransform())
                .setRpn(
                    RegionProposalNetwork.builder()
                        .setInChannels(16)
                        .optAnchorGenerator(base.getRpn().getAnchorGenerator())
                        .build())
                .setRoiHeads(
                    RoiHeads.builder()
                        .setPooler(RoiPoolers.roiPool(7, 1f / 16))
                        .setNumClasses(2)
                        .build())
                .optBackboneTrainingMode(mode)
                .build();
        model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 72, 96));
        ParameterStore ps = new ParameterStore(manager, false);
        NDList images = FasterRcnnTrainingTest.syntheticImages(manager);
        model.forward(ps, images, FasterRcnnTrainingTest.syntheticTargets(manager), null);
        assertEquals(mode, backbone.lastTraining, "backbone training flag");
        model.forward(ps, images, false);
        assertEquals(false, backbone.lastTraining, "inference");
      }
    }
  }

  @Test
  void resNet50C4UsesLayer4AsTheBoxHead() {
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model = FasterRcnnModels.fasterRcnnResNet50C4(5);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertEquals(5, model.numClasses());
      assertEquals(1024, model.getBackbone().outChannels()[0]);
      Map<String, Parameter> names = TorchvisionNames.of(model);
      assertTrue(
          names.containsKey("roi_heads.box_head.layer4.0.conv1.weight"), names.keySet()::toString);
      assertEquals(
          new Shape(6, 2048), names.get("roi_heads.box_predictor.cls_score.weight").getShape());
      assertEquals(new Shape(15, 1024, 1, 1), names.get("rpn.head.cls_logits.weight").getShape());
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray pooled = manager.randomUniform(0f, 1f, new Shape(2, 1024, 14, 14));
      NDList out = model.getRoiHeads().predict(ps, pooled, false);
      assertEquals(new Shape(2, 6), out.get(0).getShape());
      assertEquals(new Shape(2, 24), out.get(1).getShape());
    }
  }

  @Test
  void vgg16IsThePaperConfiguration() {
    FasterRcnn model = FasterRcnnModels.fasterRcnnVgg16(20);
    assertEquals(20, model.numClasses());
    assertEquals(600, model.getTransform().getMinSize());
    assertEquals(1000, model.getTransform().getMaxSize());
    assertEquals(RegionProposalNetwork.Objectness.SOFTMAX, model.getRpn().getObjectness());
    assertEquals(9, model.getRpn().getHead().getNumAnchors());
    assertEquals(2, model.getRpn().getHead().getLogitsPerAnchor());
    assertEquals(4096, ((TwoMlpHead) model.getRoiHeads().getBoxHead()).getUnits());
    assertEquals(7, model.getRoiHeads().getPooler().outputSize()[0]);
    assertEquals(
        List.of("loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"),
        List.of(model.lossNames()));
  }
}
