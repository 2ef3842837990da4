package dev.jdetect.models.dense;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.Targets;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.FeaturePyramidNetwork;
import dev.jdetect.models.neck.LastLevelP6P7;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Mismatched parts and invalid inputs give errors naming the problem. */
class RetinaNetBadInputTest {

  private static BackboneWithFpn backbone() {
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(16, 24, 32)
            .setOutChannels(16)
            .optExtraBlocks(new LastLevelP6P7(16, 16))
            .build();
    return new BackboneWithFpn(new TinyDenseModels.TinyBody(), fpn);
  }

  private static RetinaNetHead head(int anchors) {
    return RetinaNetHead.builder().setInChannels(16).setNumAnchors(anchors).setNumLogits(4).build();
  }

  @Test
  void builderRefusesPartsThatDisagree() {
    IllegalArgumentException missing =
        assertThrows(IllegalArgumentException.class, () -> RetinaNet.builder().build());
    assertTrue(missing.getMessage().contains("backbone"), missing.getMessage());
    AnchorGenerator threeLevels =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {8}, new float[] {16}, new float[] {32}))
            .build();
    IllegalArgumentException levels =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RetinaNet.builder()
                    .setBackbone(backbone())
                    .setHead(head(9))
                    .setAnchorGenerator(threeLevels)
                    .build());
    assertTrue(levels.getMessage().contains("5 levels"), levels.getMessage());
    IllegalArgumentException anchors =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RetinaNet.builder()
                    .setBackbone(backbone())
                    .setHead(head(3))
                    .setAnchorGenerator(TinyDenseModels.anchors())
                    .build());
    assertTrue(anchors.getMessage().contains("3 anchors"), anchors.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RetinaNetHead.builder()
                .setInChannels(20)
                .setNumAnchors(9)
                .setNumLogits(2)
                .optGroupNorm(8)
                .build());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RetinaNetHead.builder()
                .setInChannels(16)
                .setNumAnchors(9)
                .setNumLogits(2)
                .optPriorProbability(1)
                .build());
  }

  @Test
  void fcosPartsRefuseInvalidSettings() {
    IllegalArgumentException radius =
        assertThrows(IllegalArgumentException.class, () -> new FcosLoss(0f));
    assertTrue(radius.getMessage().contains("centerSamplingRadius"), radius.getMessage());
    // GroupNorm(32) needs a channel count it divides
    assertThrows(IllegalArgumentException.class, () -> new FcosHead(48, 4, 32));
    IllegalArgumentException noHead =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Fcos.builder()
                    .setBackbone(backbone())
                    .setAnchorGenerator(TinyDenseModels.anchors())
                    .build());
    assertTrue(noHead.getMessage().contains("head"), noHead.getMessage());
  }

  @Test
  void trainingNeedsValidTargets() {
    try (NDManager manager = NDManager.newBaseManager()) {
      RetinaNet model = TinyDenseModels.build("v1");
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      ParameterStore ps = new ParameterStore(manager, false);
      NDList images = new NDList(manager.ones(new Shape(3, 40, 50)));
      assertThrows(IllegalArgumentException.class, () -> model.forward(ps, images, true));
      NDList badLabel =
          Targets.pad(
              manager,
              List.of(manager.create(new float[] {1, 1, 10, 10}, new Shape(1, 4))),
              List.of(manager.create(new long[] {4})));
      IllegalArgumentException label =
          assertThrows(
              IllegalArgumentException.class, () -> model.forward(ps, images, badLabel, null));
      assertTrue(label.getMessage().contains("4"), label.getMessage());
      NDList wrongCount =
          Targets.pad(
              manager,
              List.of(manager.zeros(new Shape(0, 4)), manager.zeros(new Shape(0, 4))),
              List.of(
                  manager.zeros(new Shape(0), DataType.INT64),
                  manager.zeros(new Shape(0), DataType.INT64)));
      IllegalArgumentException count =
          assertThrows(
              IllegalArgumentException.class, () -> model.forward(ps, images, wrongCount, null));
      assertTrue(count.getMessage().contains("2"), count.getMessage());
    }
  }
}
