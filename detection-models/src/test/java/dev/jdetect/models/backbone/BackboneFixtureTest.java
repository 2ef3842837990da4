package dev.jdetect.models.backbone;

import static dev.jdetect.models.backbone.BackboneTestSupport.arrays;
import static dev.jdetect.models.backbone.BackboneTestSupport.assertClose;
import static dev.jdetect.models.backbone.BackboneTestSupport.loadWeights;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Forward passes against torchvision 0.14.1 on seeded weights loaded through the weights package
 * (fixtures from {@code src/fixtures/gen_models_backbones.py}), tolerance 1e-4.
 */
class BackboneFixtureTest {

  private static final String DIR = "/fixtures/backbone/";
  private static final float TOL = 1e-4f;

  private static NDArray run(NDManager manager, Block block, NDArray input, boolean training) {
    return block
        .forward(new ParameterStore(manager, false), new NDList(input), training)
        .singletonOrThrow();
  }

  @Test
  void vgg16FirstBlockMatchesTorchvision() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "vgg16_block1_io.npz");
      SequentialBlock block = Vgg16.buildFeatures(5, false);
      block.initialize(manager, DataType.FLOAT32, io.get("input").getShape());
      loadWeights(manager, block, DIR + "vgg16_block1_weights.npz", "features.");
      assertClose(io.get("output"), run(manager, block, io.get("input"), false), TOL, "vgg block1");
    }
  }

  @Test
  void bottleneckMatchesTorchvisionInAllForms() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "bottleneck_io.npz");
      NDArray x = io.get("input");
      String weights = DIR + "bottleneck_weights.npz";

      Bottleneck strided = new Bottleneck(4, 2, true, false);
      strided.initialize(manager, DataType.FLOAT32, x.getShape());
      loadWeights(manager, strided, weights, "");
      assertClose(io.get("output"), run(manager, strided, x, false), TOL, "bottleneck s2");

      Bottleneck stride1 = new Bottleneck(4, 1, true, false);
      stride1.initialize(manager, DataType.FLOAT32, x.getShape());
      loadWeights(manager, stride1, weights, "");
      assertClose(io.get("output_stride1"), run(manager, stride1, x, false), TOL, "bottleneck s1");

      // frozen norms: same state_dict names, running statistics used even in training mode
      Bottleneck frozen = new Bottleneck(4, 2, true, true);
      frozen.initialize(manager, DataType.FLOAT32, x.getShape());
      loadWeights(manager, frozen, weights, "");
      assertClose(io.get("output"), run(manager, frozen, x, true), TOL, "bottleneck frozen");
      dev.jdetect.models.weights.TorchvisionNames.of(frozen)
          .forEach(
              (name, p) ->
                  assertEquals(
                      name.contains("conv") || name.startsWith("downsample.0"),
                      p.requiresGradient(),
                      name));
    }
  }

  @Test
  void reducedMobileNetV2MatchesTorchvision() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "mobilenet_v2_small_io.npz");
      MobileNetV2 net =
          MobileNetV2.builder()
              .optWidthMult(0.25f)
              .optInvertedResidualSetting(
                  new int[][] {
                    {1, 16, 1, 1},
                    {6, 24, 2, 2},
                    {6, 32, 2, 2},
                    {6, 64, 2, 2},
                    {6, 96, 1, 1},
                    {6, 160, 1, 2},
                    {6, 320, 1, 1}
                  })
              .optLastChannel(128)
              .build();
      net.initialize(manager, DataType.FLOAT32, io.get("input").getShape());
      loadWeights(manager, net, DIR + "mobilenet_v2_small_weights.npz", "");
      assertClose(io.get("output"), run(manager, net, io.get("input"), false), TOL, "mobilenet");
    }
  }
}
