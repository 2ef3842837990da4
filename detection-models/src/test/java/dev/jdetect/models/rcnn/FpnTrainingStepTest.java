package dev.jdetect.models.rcnn;

import static dev.jdetect.models.rcnn.FasterRcnnFixtureTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.Targets;
import dev.jdetect.models.backbone.MobileNetV3;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.FeaturePyramidNetwork;
import dev.jdetect.models.neck.LastLevelMaxPool;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.weights.WeightImport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One SGD step of an FPN Faster R-CNN assembled as torchvision's {@code
 * fasterrcnn_mobilenet_v3_large_320_fpn}, at reduced size
 * (src/fixtures/gen_models_rcnn_fpn_step.py, take-all sampling): the four losses, the gradients of
 * the trainable parameters, no gradient for the frozen stages, and the losses after the step.
 */
class FpnTrainingStepTest {

  private static final float LR = 0.01f;

  /** The generator's detector: frozen MobileNetV3 children 0 to 4, a 16-channel pyramid. */
  static FasterRcnn model() {
    int[][] table = {
      {8, 3, 8, 8, 0, 0, 1},
      {8, 3, 16, 8, 0, 0, 2},
      {8, 3, 24, 16, 1, 1, 2},
      {16, 3, 32, 16, 0, 1, 1},
      {16, 5, 48, 16, 1, 1, 2},
      {16, 5, 48, 24, 1, 1, 2},
      {24, 5, 48, 24, 1, 1, 1}
    };
    List<MobileNetV3.Stage> stages = new ArrayList<>();
    for (int[] r : table) {
      stages.add(new MobileNetV3.Stage(r[0], r[1], r[2], r[3], r[4] == 1, r[5] == 1, r[6], 1));
    }
    MobileNetV3 body =
        MobileNetV3.builder()
            .optStages(stages)
            .optFrozenBatchNorm(true)
            .optReturnedIndices(6, 8)
            .optTrainableLayers(3)
            .build();
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(body.outChannels())
            .setOutChannels(16)
            .optExtraBlocks(new LastLevelMaxPool())
            .build();
    float[] sizes = {16, 32, 64};
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(sizes, sizes, sizes))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder()
            .setInChannels(16)
            .optAnchorGenerator(anchors)
            .optProposalFilter(
                ProposalFilter.builder()
                    .optPreNmsTopN(2000, 150)
                    .optPostNmsTopN(2000, 150)
                    .optScoreThreshold(0.05f)
                    .build())
            .optLoss(RpnLoss.builder().optSampler(RcnnFixtures.sampler(256, 0.5, true)).build())
            .build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.multiScaleRoiAlign(7, 2, 2))
            .optBoxHead(TwoMlpHead.builder().optUnits(32).build())
            .setNumClasses(3)
            .optSampler(
                RoiSampler.builder().optSampler(RcnnFixtures.sampler(512, 0.25, true)).build())
            .build();
    return FasterRcnn.builder()
        .setBackbone(new BackboneWithFpn(body, fpn))
        .optTransform(RcnnTransform.builder().optMinSize(160).optMaxSize(256).build())
        .setRpn(rpn)
        .setRoiHeads(heads)
        .optBackboneTrainingMode(false)
        .build();
  }

  private static NDList losses(FasterRcnn model, NDManager manager, Map<String, NDArray> io) {
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      boxes.add(io.get("target_boxes_" + i));
      labels.add(io.get("target_labels_" + i));
    }
    NDList images = new NDList(io.get("image_0"), io.get("image_1"));
    ParameterStore ps = new ParameterStore(manager, false);
    return model.forward(ps, images, Targets.pad(manager, boxes, labels), null);
  }

  @Test
  void oneSgdStepMatchesTorchvision() throws IOException {
    List<String> frozen;
    try (InputStream in =
        getClass().getResourceAsStream(RcnnFixtures.DIR + "fpn_step_frozen.txt")) {
      frozen = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = RcnnFixtures.load(manager, "fpn_step_io.npz");
      FasterRcnn model = model();
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 160, 160));
      try (InputStream is =
          getClass().getResourceAsStream(RcnnFixtures.DIR + "fpn_step_weights.npz")) {
        WeightImport.load(model, StateDict.fromNpz(manager, is));
      }
      Map<String, Parameter> params = TorchvisionNames.of(model);
      String[] names = model.lossNames();
      NDList before;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        before = losses(model, manager, io);
        gc.backward(before.get(0).add(before.get(1)).add(before.get(2)).add(before.get(3)));
      }
      for (int i = 0; i < 4; i++) {
        assertClose(io.get(names[i]), before.get(i), 1e-4f, names[i]);
      }
      int compared = 0;
      List<String> noGradient = new ArrayList<>();
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray a = e.getValue().getArray();
        boolean trains = e.getValue().requiresGradient();
        // frozen batch norms hold buffers in torchvision (GAMMA, BETA, RUNNING_* here), not
        // parameters; torchvision's parameters without gradient are convolution weights and biases
        Parameter.Type type = e.getValue().getType();
        boolean convolution = type == Parameter.Type.WEIGHT || type == Parameter.Type.BIAS;
        if (!trains && convolution) {
          noGradient.add(e.getKey());
        }
        NDArray want = io.get("grad." + e.getKey());
        if (want != null) {
          assertTrue(trains, e.getKey());
          assertClose(want, a.getGradient().reshape(want.getShape()), 1e-4f, e.getKey());
          compared++;
        }
      }
      assertEquals(26, compared, "gradients compared");
      assertEquals(frozen, noGradient, "frozen parameters");

      // the step: plain SGD on the summed losses, then the same batch again
      for (Parameter p : params.values()) {
        if (p.requiresGradient()) {
          NDArray a = p.getArray();
          a.subi(a.getGradient().mul(LR));
        }
      }
      NDList after = losses(model, manager, io);
      for (int i = 0; i < 4; i++) {
        assertClose(io.get("after_" + names[i]), after.get(i), 2e-4f, "after the step " + names[i]);
        assertFalse(
            Math.abs(after.get(i).getFloat() - before.get(i).getFloat()) < 1e-3f,
            names[i] + " moved");
      }
    }
  }
}
