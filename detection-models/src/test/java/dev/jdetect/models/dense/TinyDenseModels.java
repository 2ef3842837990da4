package dev.jdetect.models.dense;

import static dev.jdetect.testkit.NDAssertions.assertCloseScaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.Targets;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.neck.FeaturePyramidNetwork;
import dev.jdetect.models.neck.LastLevelP6P7;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.testkit.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The small RetinaNets ("v1", "v2") and FCOS ("fcos") of gen_models_dense.py, with their weights.
 */
final class TinyDenseModels {

  static final String DIR = "/fixtures/dense/";

  private TinyDenseModels() {}

  /** {@code stem} (stride 8, 16 ch), {@code layer3} (16, 24 ch), {@code layer4} (32, 32 ch). */
  static final class TinyBody extends AbstractBlock implements Backbone {
    private final SequentialBlock stem;
    private final SequentialBlock layer3;
    private final SequentialBlock layer4;

    TinyBody() {
      stem = addChildBlock("stem", stage(8, 8, 16));
      layer3 = addChildBlock("layer3", stage(24));
      layer4 = addChildBlock("layer4", stage(32));
    }

    private static SequentialBlock stage(int... channels) {
      SequentialBlock block = new SequentialBlock();
      for (int c : channels) {
        block.add(ConvBlocks.conv(c, 3, 2, 1, 1, true)).add(Activation.reluBlock());
      }
      return block;
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray c3 = stem.forward(ps, inputs, training).singletonOrThrow();
      NDArray c4 = layer3.forward(ps, new NDList(c3), training).singletonOrThrow();
      NDArray c5 = layer4.forward(ps, new NDList(c4), training).singletonOrThrow();
      return new NDList(c3, c4, c5);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
      Shape c3 = stem.getOutputShapes(in)[0];
      Shape c4 = layer3.getOutputShapes(new Shape[] {c3})[0];
      return new Shape[] {c3, c4, layer4.getOutputShapes(new Shape[] {c4})[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... in) {
      stem.initialize(manager, dataType, in[0]);
      Shape c3 = stem.getOutputShapes(new Shape[] {in[0]})[0];
      layer3.initialize(manager, dataType, c3);
      layer4.initialize(manager, dataType, layer3.getOutputShapes(new Shape[] {c3})[0]);
    }

    @Override
    public int[] outChannels() {
      return new int[] {16, 24, 32};
    }

    @Override
    public int[] strides() {
      return new int[] {8, 16, 32};
    }
  }

  static AnchorGenerator anchors() {
    List<float[]> sizes = new ArrayList<>();
    for (int x : new int[] {8, 16, 32, 64, 128}) {
      sizes.add(
          new float[] {x, (int) (x * Math.pow(2, 1.0 / 3)), (int) (x * Math.pow(2, 2.0 / 3))});
    }
    return AnchorGenerator.builder()
        .optSizes(sizes)
        .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
        .build();
  }

  /** The generator's small FCOS: GroupNorm(8) heads, P6 from P5, points of strides 8 to 128. */
  static Fcos buildFcos() {
    List<float[]> sizes = new ArrayList<>();
    for (int stride = 8; stride <= 128; stride *= 2) {
      sizes.add(new float[] {stride});
    }
    return Fcos.builder()
        .setBackbone(new BackboneWithFpn(new TinyBody(), fpn(16)))
        .setHead(new FcosHead(16, 4, 8))
        .setAnchorGenerator(
            AnchorGenerator.builder()
                .optSizes(sizes)
                .optAspectRatios(List.of(new float[] {1f}))
                .build())
        .optTransform(transform())
        .optPostProcessor(
            Fcos.torchvisionPostProcessing()
                .optTopkCandidates(20)
                .optDetectionsPerImage(30)
                .build())
        .build();
  }

  private static FeaturePyramidNetwork fpn(int p6Source) {
    return FeaturePyramidNetwork.builder()
        .setInChannels(16, 24, 32)
        .setOutChannels(16)
        .optExtraBlocks(new LastLevelP6P7(p6Source, 16))
        .build();
  }

  private static RcnnTransform transform() {
    return RcnnTransform.builder().optMinSize(64).optMaxSize(100).build();
  }

  /** The two images of the generator. */
  static NDList images(NDList f) {
    return new NDList(Fixtures.get(f, "image_0"), Fixtures.get(f, "image_1"));
  }

  /** Image 0's three objects and image 1 without objects. */
  static NDList targets(NDManager manager, NDList f) {
    return Targets.pad(
        manager,
        List.of(Fixtures.get(f, "target_boxes_0"), manager.zeros(new Shape(0, 4))),
        List.of(Fixtures.get(f, "target_labels_0"), manager.zeros(new Shape(0), DataType.INT64)));
  }

  /** A finite scalar loss equal to torchvision's, relative to its size. */
  static void assertLoss(NDArray want, NDArray got, String what) {
    assertEquals(new Shape(), got.getShape(), what + " is a scalar");
    assertTrue(Float.isFinite(got.getFloat()), what + " is finite: " + got.getFloat());
    assertCloseScaled(want.reshape(), got, 1e-5f, what);
  }

  /**
   * The generator's small RetinaNet.
   *
   * @param version "v1" (no head norm, P6 from P5, L1) or "v2" (GroupNorm 8, P6 from C5, GIoU)
   * @return the model (not initialised)
   */
  static RetinaNet build(String version) {
    boolean v2 = "v2".equals(version);
    FeaturePyramidNetwork fpn = fpn(v2 ? 32 : 16);
    RetinaNetHead head =
        RetinaNetHead.builder()
            .setInChannels(16)
            .setNumAnchors(9)
            .setNumLogits(4)
            .optGroupNorm(v2 ? 8 : 0)
            .build();
    return RetinaNet.builder()
        .setBackbone(new BackboneWithFpn(new TinyBody(), fpn))
        .setHead(head)
        .setAnchorGenerator(anchors())
        .optTransform(transform())
        .optLoss(
            RetinaNetLoss.builder()
                .optBoxLoss(v2 ? RetinaNetLoss.BoxLoss.GIOU : RetinaNetLoss.BoxLoss.L1)
                .build())
        .optPostProcessor(
            DensePostProcessor.builder().optTopkCandidates(20).optDetectionsPerImage(30).build())
        .build();
  }

  /** Builds, initialises and loads the generator's weights (strict). */
  static RetinaNet load(NDManager manager, String version) {
    return load(manager, version, build(version));
  }

  /** Initialises the model and loads the generator's weights for it (strict). */
  static <T extends DenseDetector> T load(NDManager manager, String version, T model) {
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
    try (InputStream is =
        TinyDenseModels.class.getResourceAsStream(DIR + version + "_weights.npz")) {
      WeightImport.load(model, StateDict.fromNpz(manager, is));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return model;
  }
}
