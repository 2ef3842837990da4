package dev.jdetect.models.backbone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.testkit.NDAssertions;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NDManagerExtension.class)
class FrozenBatchNormFoldingTest {

  /**
   * One 1x1 convolution with 2 outputs on a 2-channel, 1x2 input, then a frozen norm; every value
   * by hand.
   */
  @Test
  void oneConvolutionByHand(NDManager manager) {
    SequentialBlock block = new SequentialBlock();
    block.add(ConvBlocks.conv(2, 1, 1, 0, 1, true)).add(new FrozenBatchNorm2d(0f));
    Shape input = new Shape(1, 2, 1, 2);
    block.initialize(manager, DataType.FLOAT32, input);
    Map<String, Parameter> p = TorchvisionNames.of(block);
    // conv: out0 = 1*a + 2*b + 0.5, out1 = -1*a + 3*b - 1
    p.get("0.weight").getArray().set(new float[] {1, 2, -1, 3});
    p.get("0.bias").getArray().set(new float[] {0.5f, -1});
    // norm (eps 0): scale 3 / sqrt(4) = 1.5, shift 1 - 0.5 * 1.5 = 0.25;
    // scale 6 / sqrt(9) = 2, shift -1 - 2 * 2 = -5
    p.get("1.weight").getArray().set(new float[] {3, 6});
    p.get("1.bias").getArray().set(new float[] {1, -1});
    p.get("1.running_mean").getArray().set(new float[] {0.5f, 2});
    p.get("1.running_var").getArray().set(new float[] {4, 9});
    // pixels (a, b) = (1, 2) and (3, -1)
    NDArray x = manager.create(new float[] {1, 3, 2, -1}, input);
    // out0 = 5.5, 1.5 -> 8.5, 2.5; out1 = 4, -7 -> 3, -19 (folded: weights 1.5, 3, -2, 6, biases
    // 0.5 * 1.5 + 0.25 = 1 and -1 * 2 - 5 = -7, all exact in float32)
    float[] want = {8.5f, 2.5f, 3f, -19f};
    ParameterStore ps = new ParameterStore(manager, false);
    try (Autograd.NoGradient ignored = Autograd.noGradient()) {
      assertArrayEquals(want, block.forward(ps, new NDList(x), false).head().toFloatArray());
      assertEquals(1, FrozenBatchNormFolding.fold(block));
      assertTrue(((FoldableConv2d) block.getChildren().get(0).getValue()).isFolded());
      assertArrayEquals(want, block.forward(ps, new NDList(x), false).head().toFloatArray());
      // training takes the parameters' path: the same values
      assertArrayEquals(want, block.forward(ps, new NDList(x), true).head().toFloatArray());
      // the parameters keep their values
      assertArrayEquals(new float[] {1, 2, -1, 3}, p.get("0.weight").getArray().toFloatArray());
      assertArrayEquals(new float[] {0.5f, -1}, p.get("0.bias").getArray().toFloatArray());
      assertEquals(1, FrozenBatchNormFolding.unfold(block));
      assertArrayEquals(want, block.forward(ps, new NDList(x), false).head().toFloatArray());
    }
  }

  /** Folding reads the norm: without it the folded convolution alone gives other values. */
  @Test
  void theNormIsSkippedOnlyWhenFolded(NDManager manager) {
    SequentialBlock block = new SequentialBlock();
    block.add(ConvBlocks.conv(1, 1, 1, 0, 1, false)).add(new FrozenBatchNorm2d(0f));
    Shape input = new Shape(1, 1, 1, 1);
    block.initialize(manager, DataType.FLOAT32, input);
    Map<String, Parameter> p = TorchvisionNames.of(block);
    p.get("0.weight").getArray().set(new float[] {2});
    p.get("1.weight").getArray().set(new float[] {3});
    p.get("1.bias").getArray().set(new float[] {1});
    p.get("1.running_mean").getArray().set(new float[] {0});
    p.get("1.running_var").getArray().set(new float[] {1});
    NDArray x = manager.create(new float[] {5}, input);
    ParameterStore ps = new ParameterStore(manager, false);
    try (Autograd.NoGradient ignored = Autograd.noGradient()) {
      FrozenBatchNormFolding.fold(block);
      // 5 * (2 * 3) + 1
      assertEquals(31f, block.forward(ps, new NDList(x), false).head().getFloat());
      NDArray convOnly =
          block.getChildren().get(0).getValue().forward(ps, new NDList(x), false).head();
      assertEquals(31f, convOnly.getFloat());
      NDArray normOnly =
          block.getChildren().get(1).getValue().forward(ps, new NDList(x), false).head();
      assertEquals(5f, normOnly.getFloat(), "a folded norm passes its input through");
      // in training both run from their parameters
      assertEquals(
          10f,
          block.getChildren().get(0).getValue().forward(ps, new NDList(x), true).head().getFloat());
    }
    // with PyTorch recording too: 5 * 2 = 10, then 10 * 3 + 1
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      assertEquals(31f, block.forward(ps, new NDList(x), false).head().getFloat());
      NDArray convOnly =
          block.getChildren().get(0).getValue().forward(ps, new NDList(x), false).head();
      assertEquals(10f, convOnly.getFloat(), "recording: the convolution's own weight");
      NDArray normOnly =
          block.getChildren().get(1).getValue().forward(ps, new NDList(x), false).head();
      assertEquals(16f, normOnly.getFloat(), "recording: the norm normalises");
    }
  }

  /** ResNet-50 with torchvision's frozen norms: 53 pairs, outputs equal to the unfolded ones. */
  @Test
  void resNet50FoldedEqualsUnfolded(NDManager manager) {
    ResNet50 net =
        ResNet50.builder().optFrozenBatchNorm(true).optReturnedLayers(1, 2, 3, 4).build();
    Shape input = new Shape(1, 3, 96, 64);
    net.initialize(manager, DataType.FLOAT32, input);
    randomStatistics(net, manager);
    Map<String, float[]> before = values(net);
    NDArray x = manager.randomUniform(0f, 1f, input);
    ParameterStore ps = new ParameterStore(manager, false);
    try (Autograd.NoGradient ignored = Autograd.noGradient()) {
      NDList want = net.forward(ps, new NDList(x), false);
      assertEquals(53, FrozenBatchNormFolding.fold(net));
      NDList got = net.forward(ps, new NDList(x), false);
      for (int i = 0; i < want.size(); i++) {
        NDAssertions.assertCloseScaled(want.get(i), got.get(i), 1e-5f, "layer " + (i + 1));
      }
      // folded outputs really come from the folded path: not bitwise the unfolded ones
      assertNotEquals(0f, want.get(3).sub(got.get(3)).abs().max().getFloat());
    }
    // the state a save writes: every name and value as before
    Map<String, float[]> after = values(net);
    assertEquals(before.keySet(), after.keySet());
    for (String name : before.keySet()) {
      assertArrayEquals(before.get(name), after.get(name), name);
    }
    assertEquals(53, FrozenBatchNormFolding.unfold(net));
    assertEquals(0, FrozenBatchNormFolding.unfold(net));
  }

  /** MobileNetV3-Large with frozen norms: every norm folds (a convolution before each). */
  @Test
  void mobileNetV3FoldsEveryFrozenNorm(NDManager manager) {
    MobileNetV3 net = MobileNetV3.builder().optFrozenBatchNorm(true).build();
    Shape input = new Shape(1, 3, 64, 64);
    net.initialize(manager, DataType.FLOAT32, input);
    randomStatistics(net, manager);
    NDArray x = manager.randomUniform(0f, 1f, input);
    ParameterStore ps = new ParameterStore(manager, false);
    try (Autograd.NoGradient ignored = Autograd.noGradient()) {
      NDArray want = net.forward(ps, new NDList(x), false).head();
      int norms = countNorms(net);
      assertTrue(norms > 40, "norms: " + norms);
      assertEquals(norms, FrozenBatchNormFolding.fold(net));
      NDAssertions.assertCloseScaled(
          want, net.forward(ps, new NDList(x), false).head(), 1e-5f, "output");
    }
  }

  @Test
  void trainableNormsAndUninitialisedModelsAreLeftAlone(NDManager manager) {
    ResNet50 trainable = ResNet50.builder().optForm(ResNet50.Form.C4).build();
    trainable.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 32, 32));
    assertEquals(0, FrozenBatchNormFolding.fold(trainable));
    ResNet50 fresh = ResNet50.builder().optFrozenBatchNorm(true).build();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> FrozenBatchNormFolding.fold(fresh));
    assertTrue(e.getMessage().contains("initialise"), e.getMessage());
    assertFalse(((FoldableConv2d) fresh.getChildren().values().get(0)).isFolded());
  }

  private static int countNorms(Block block) {
    int n = block instanceof FrozenBatchNorm2d ? 1 : 0;
    for (Block child : block.getChildren().values()) {
      n += countNorms(child);
    }
    return n;
  }

  /** Norm statistics away from the identity, so that folding changes the weights. */
  private static void randomStatistics(Block net, NDManager manager) {
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(net).entrySet()) {
      NDArray a = e.getValue().getArray();
      Shape s = a.getShape();
      if (e.getKey().endsWith("running_mean")) {
        a.set(manager.randomUniform(-0.1f, 0.1f, s).toFloatArray());
      } else if (e.getKey().endsWith("running_var")) {
        a.set(manager.randomUniform(0.5f, 1.5f, s).toFloatArray());
      } else if (s.dimension() == 1) {
        a.set(manager.randomUniform(0.5f, 1.5f, s).toFloatArray());
      }
    }
  }

  private static Map<String, float[]> values(Block net) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(net).entrySet()) {
      out.put(e.getKey(), e.getValue().getArray().toFloatArray());
    }
    return out;
  }
}
