package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.models.ImageTargets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed cases of the RPN, in particular the paper's configuration. */
class RegionProposalNetworkTest {

  /** Classic-form anchors 16 and 32 (ratio 1) at stride 16, centred at 8 + 16 i. */
  private static AnchorGenerator smallClassicAnchors() {
    return AnchorGenerator.builder()
        .optClassic(16f, new float[] {1f, 2f}, new float[] {1f}, 16)
        .build();
  }

  private static RpnLoss classicLoss() {
    return RpnLoss.classicBuilder().optSampler(RcnnFixtures.sampler(256, 0.5, true)).build();
  }

  private static RegionProposalNetwork classic() {
    return RegionProposalNetwork.classicBuilder()
        .optAnchorGenerator(smallClassicAnchors())
        .setInChannels(4)
        .optLoss(classicLoss())
        .build();
  }

  @Test
  void classicIgnoresAnchorsCrossingTheBorder() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray anchors =
          manager.create(
              new float[] {0, 0, 10, 10, -6, 0, 4, 10, 10, 10, 20, 20, 5, 5, 15, 15},
              new Shape(4, 4));
      NDArray gt = manager.create(new float[] {0, 0, 10, 10}, new Shape(1, 4));
      int[] size = {20, 20};
      RpnLoss.AnchorLabels paper = classicLoss().labelAnchors(anchors, gt, size);
      // IoU 1, 0.25 (crosses the left border), 0 (touches the corner, inside), 0.14
      assertArrayEquals(new long[] {1, -1, 0, 0}, paper.labels().toLongArray());
      RpnLoss torchvision = RpnLoss.builder().build();
      assertArrayEquals(
          new long[] {1, 0, 0, 0},
          torchvision.labelAnchors(anchors, gt, size).labels().toLongArray());
      // no objects: every inside anchor is background, crossing ones stay ignored
      NDArray none = manager.zeros(new Shape(0, 4));
      assertArrayEquals(
          new long[] {0, -1, 0, 0},
          classicLoss().labelAnchors(anchors, none, size).labels().toLongArray());
    }
  }

  @Test
  void classicLossesAreSoftmaxAndLambdaOverPositives() {
    try (NDManager manager = NDManager.newBaseManager()) {
      RegionProposalNetwork rpn = classic();
      Shape feature = new Shape(1, 4, 4, 4);
      rpn.initialize(manager, DataType.FLOAT32, feature, new Shape(1, 2), new Shape(2));
      assertEquals(
          new Shape(4, 4, 1, 1), rpn.getHead().getParameters().get(2).getValue().getShape());
      for (Pair<String, Parameter> p : rpn.getParameters()) {
        p.getValue().getArray().muli(0f);
      }
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray gt = manager.create(new float[] {0, 0, 16, 20}, new Shape(1, 4));
      NDArray labels = manager.create(new long[] {1});
      RegionProposalNetwork.Output out =
          rpn.propose(
              ps,
              new NDList(manager.ones(feature)),
              List.of(new int[] {64, 64}),
              64,
              64,
              true,
              List.of(new ImageTargets(gt, labels)));
      // zero logits: 2-way softmax cross-entropy is ln 2 for every sampled anchor
      assertEquals((float) Math.log(2), out.objectnessLoss().getFloat(), 1e-6f);
      // one positive (anchor [0,0,16,16], IoU 0.8) with targets (0, 0.125, 0, ln 1.25) and
      // zero deltas: smooth-L1 (beta 1/9) sum = (0.125 - 1/18) + (ln 1.25 - 1/18), times 10 / 1
      double expected = 10 * ((0.125 - 1.0 / 18) + (Math.log(1.25) - 1.0 / 18));
      assertEquals((float) expected, out.boxLoss().getFloat(), 1e-5f);
      float[] scores = out.scores().get(0).toFloatArray();
      assertTrue(scores.length > 0 && scores.length <= 2000);
      for (float s : scores) {
        assertEquals(0.5f, s, 1e-6f);
      }
    }
  }

  @Test
  void classicMinimumSizeIsInThePixelsOfTheImageAsGiven() {
    try (NDManager manager = NDManager.newBaseManager()) {
      RegionProposalNetwork rpn = classic();
      Shape feature = new Shape(1, 4, 4, 4);
      rpn.initialize(manager, DataType.FLOAT32, feature, new Shape(1, 2), new Shape(2));
      for (Pair<String, Parameter> p : rpn.getParameters()) {
        p.getValue().getArray().muli(0f); // zero deltas: proposals are the clipped anchors
      }
      ParameterStore ps = new ParameterStore(manager, false);
      NDList features = new NDList(manager.ones(feature));
      NDArray tensor = manager.zeros(new Shape(1, 3, 64, 64));
      // given at 64x64: 16 px minimum, the 16 px anchors stay
      ImageBatch same =
          new ImageBatch(tensor, List.of(new int[] {64, 64}), List.of(new int[] {64, 64}));
      long kept = rpn.propose(ps, features, same, false, null).proposals().get(0).getShape().get(0);
      assertTrue(kept > 0, "proposals at scale 1: " + kept);
      // given at 16x16 and upscaled 4x: 16 px there are 64 px here, larger than every anchor
      ImageBatch upscaled =
          new ImageBatch(tensor, List.of(new int[] {64, 64}), List.of(new int[] {16, 16}));
      assertEquals(
          0, rpn.propose(ps, features, upscaled, false, null).proposals().get(0).getShape().get(0));
    }
  }

  @Test
  void plainForwardEqualsPropose() {
    try (NDManager manager = NDManager.newBaseManager()) {
      RegionProposalNetwork rpn =
          RegionProposalNetwork.builder()
              .optAnchorGenerator(smallClassicAnchors())
              .setInChannels(4)
              .optProposalFilter(ProposalFilter.builder().optPostNmsTopN(10, 5).build())
              .build();
      Shape feature = new Shape(2, 4, 4, 4);
      rpn.initialize(manager, DataType.FLOAT32, feature, new Shape(2, 2), new Shape(2));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray features = manager.randomUniform(0f, 1f, feature);
      NDList out =
          rpn.forward(
              ps,
              new NDList(
                  features,
                  manager.create(new long[] {64, 64, 60, 50}, new Shape(2, 2)),
                  manager.create(new long[] {64, 64})),
              false);
      RegionProposalNetwork.Output expected =
          rpn.propose(
              ps,
              new NDList(features),
              List.of(new int[] {64, 64}, new int[] {60, 50}),
              64,
              64,
              false,
              null);
      assertEquals(4, out.size());
      for (int i = 0; i < 2; i++) {
        assertEquals(5, out.get(2 * i).getShape().get(0), "post-NMS top-n at test time");
        FasterRcnnFixtureTest.assertClose(
            expected.proposals().get(i), out.get(2 * i), 0f, "proposals " + i);
        FasterRcnnFixtureTest.assertClose(
            expected.scores().get(i), out.get(2 * i + 1), 0f, "scores " + i);
      }
      // image 1 is 60x50: its proposals are clipped to it
      float[] boxes = out.get(2).toFloatArray();
      for (int j = 0; j < boxes.length; j += 4) {
        assertTrue(boxes[j + 2] <= 50f && boxes[j + 3] <= 60f);
      }
    }
  }

  @Test
  void softmaxHeadHasTwoLogitsPerAnchorInBackgroundThenObjectOrder() {
    RpnHead head =
        RpnHead.builder().setInChannels(8).setNumAnchors(9).optLogitsPerAnchor(2).build();
    Shape[] out = head.getOutputShapes(new Shape[] {new Shape(2, 8, 5, 6)});
    assertEquals(new Shape(2, 18, 5, 6), out[0]);
    assertEquals(new Shape(2, 36, 5, 6), out[1]);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RegionProposalNetwork.builder()
                .optHead(head)
                .optAnchorGenerator(AnchorGenerator.classic())
                .build());
  }

  @Test
  void levelsWithDifferentAnchorCountsAreRejected() {
    AnchorGenerator uneven =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {16}, new float[] {32, 64}))
            .optAspectRatios(List.of(new float[] {1f}))
            .build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RegionProposalNetwork.builder()
                    .setInChannels(4)
                    .optAnchorGenerator(uneven)
                    .build());
    assertTrue(e.getMessage().contains("[1, 2]"), e.getMessage());
  }

  @Test
  void lossAndDecodingMustShareTheBoxCoder() {
    BoxCoder other = BoxCoder.builder().optWeights(2f, 2f, 1f, 1f).build();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RegionProposalNetwork.builder().setInChannels(4).optBoxCoder(other).build());
    assertTrue(e.getMessage().contains("box coder"), e.getMessage());
    RegionProposalNetwork.builder()
        .setInChannels(4)
        .optBoxCoder(other)
        .optLoss(RpnLoss.builder().optBoxCoder(other).build())
        .build();
  }
}
