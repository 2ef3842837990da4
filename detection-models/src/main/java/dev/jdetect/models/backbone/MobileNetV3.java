package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * torchvision's MobileNetV3 {@code features}: children {@code 0} (a 3x3 stride-2 convolution to the
 * first stage's channels, norm, hardswish), {@code 1 .. n} (one {@link MobileNetV3Block} per {@link
 * Stage}) and {@code n + 1} (a 1x1 convolution to six times the last stage's channels, norm,
 * hardswish). As a detection backbone its children carry torchvision's indices directly, the names
 * of a detection checkpoint's {@code backbone.body.*}; an ImageNet checkpoint loads with its {@code
 * features.} prefix stripped.
 *
 * <p>By default the backbone returns the last child's output; {@link
 * Builder#optReturnedIndices(int...)} returns several children's outputs instead, as torchvision's
 * detection models take them (the FPN Faster R-CNNs: children 13 and 16 of the large network).
 */
public final class MobileNetV3 extends AbstractBlock implements Backbone {

  /**
   * One row of MobileNetV3's table (torchvision's {@code InvertedResidualConfig}, channels already
   * adjusted to the width multiplier).
   *
   * @param inChannels input channels
   * @param kernel depthwise kernel size
   * @param expandedChannels channels after the 1x1 expansion
   * @param outChannels output channels
   * @param squeezeExcite whether a squeeze-and-excitation follows the depthwise convolution
   * @param hardSwish hardswish ({@code true}) or ReLU activations
   * @param stride 1 or 2
   * @param dilation 1, or 2 for the dilated tail
   */
  public record Stage(
      int inChannels,
      int kernel,
      int expandedChannels,
      int outChannels,
      boolean squeezeExcite,
      boolean hardSwish,
      int stride,
      int dilation) {

    /** Checks the settings. */
    public Stage {
      if (inChannels <= 0 || expandedChannels <= 0 || outChannels <= 0 || kernel <= 0) {
        throw new IllegalArgumentException("stage channels and kernel must be > 0");
      }
      if ((stride != 1 && stride != 2) || dilation < 1) {
        throw new IllegalArgumentException(
            "stage stride must be 1 or 2 and dilation >= 1, got " + stride + ", " + dilation);
      }
    }
  }

  /** torchvision's {@code kaiming_normal_(mode="fan_out")}. */
  private static final Initializer KAIMING_FAN_OUT =
      new XavierInitializer(
          XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.OUT, 2f);

  private final List<Stage> stages;
  private final List<Block> children = new ArrayList<>();
  private final int[] returned;
  private final int[] channels;
  private final int[] strides;

  private MobileNetV3(Builder b) {
    ConvolutionCheck.ensureCorrect();
    this.stages = List.copyOf(b.stages);
    Supplier<Block> norm =
        b.frozenBatchNorm
            ? FrozenBatchNorm2d::new
            : () -> ConvBlocks.batchNorm(b.bnEps, b.bnTorchMomentum);
    int n = stages.size();
    channels = new int[n + 2];
    strides = new int[n + 2];
    channels[0] = stages.get(0).inChannels();
    strides[0] = 2;
    children.add(addChildBlock("0", convNormAct(channels[0], 3, 2, 1, 1, norm, true)));
    for (int i = 0; i < n; i++) {
      Stage s = stages.get(i);
      if (s.inChannels() != channels[i]) {
        throw new IllegalArgumentException(
            "stage " + (i + 1) + " takes " + s.inChannels() + " channels, gets " + channels[i]);
      }
      children.add(addChildBlock(Integer.toString(i + 1), new MobileNetV3Block(s, norm)));
      channels[i + 1] = s.outChannels();
      strides[i + 1] = strides[i] * (s.dilation() > 1 ? 1 : s.stride());
    }
    channels[n + 1] = 6 * channels[n];
    strides[n + 1] = strides[n];
    children.add(
        addChildBlock(
            Integer.toString(n + 1), convNormAct(channels[n + 1], 1, 1, 1, 1, norm, true)));
    this.returned = b.returnedIndices != null ? b.returnedIndices.clone() : new int[] {n + 1};
    for (int r : returned) {
      if (r < 0 || r > n + 1) {
        throw new IllegalArgumentException("returned index " + r + " outside [0, " + (n + 1) + "]");
      }
    }
    freezeBelow(b.trainableLayers);
  }

  /**
   * torchvision's {@code _mobilenet_extractor}: the stages start at child 0, at every block whose
   * table stride is 2, and at the last child; the last {@code trainable} stages train.
   */
  private void freezeBelow(int trainable) {
    List<Integer> starts = new ArrayList<>();
    starts.add(0);
    for (int i = 0; i < stages.size(); i++) {
      if (stages.get(i).stride() > 1) {
        starts.add(i + 1);
      }
    }
    starts.add(children.size() - 1);
    if (trainable < 0 || trainable > starts.size()) {
      throw new IllegalArgumentException(
          "trainable layers must be in [0, " + starts.size() + "], got " + trainable);
    }
    int freezeBefore = trainable == 0 ? children.size() : starts.get(starts.size() - trainable);
    for (int i = 0; i < freezeBefore; i++) {
      children.get(i).freezeParameters(true);
    }
  }

  /**
   * torchvision's {@code Conv2dNormActivation}: convolution (no bias, padding {@code (k - 1) / 2 *
   * dilation}), norm, then hardswish, ReLU or nothing, at positions 0, 1, 2.
   */
  static SequentialBlock convNormAct(
      int out, int kernel, int stride, int dilation, int groups, Supplier<Block> norm, Boolean hs) {
    Conv2d conv =
        ConvBlocks.conv(out, kernel, stride, (kernel - 1) / 2 * dilation, dilation, groups, false);
    conv.setInitializer(KAIMING_FAN_OUT, Parameter.Type.WEIGHT);
    SequentialBlock block = new SequentialBlock().add(conv).add(norm.get());
    if (hs != null) {
      block.add(hs ? HardActivations.hardswishBlock() : Activation.reluBlock());
    }
    return block;
  }

  /**
   * torchvision's {@code _make_divisible(v, 8)}: the nearest multiple of 8, at least 8, and not
   * below 90% of {@code v}.
   *
   * @param v a channel count
   * @return the adjusted count
   */
  static int makeDivisible(double v) {
    int rounded = Math.max(8, (int) (v + 4) / 8 * 8);
    return rounded < 0.9 * v ? rounded + 8 : rounded;
  }

  /**
   * Returns the table of MobileNetV3-Large (torchvision's {@code mobilenet_v3_large}).
   *
   * @param widthMult the width multiplier (1.0 for the published weights)
   * @param reducedTail halve the last three stages' channels, as the detection weights do
   * @param dilated dilate the last three stages instead of striding
   * @return the 15 stages
   */
  public static List<Stage> large(double widthMult, boolean reducedTail, boolean dilated) {
    int r = reducedTail ? 2 : 1;
    int d = dilated ? 2 : 1;
    int[][] t = {
      {16, 3, 16, 16, 0, 0, 1, 1},
      {16, 3, 64, 24, 0, 0, 2, 1},
      {24, 3, 72, 24, 0, 0, 1, 1},
      {24, 5, 72, 40, 1, 0, 2, 1},
      {40, 5, 120, 40, 1, 0, 1, 1},
      {40, 5, 120, 40, 1, 0, 1, 1},
      {40, 3, 240, 80, 0, 1, 2, 1},
      {80, 3, 200, 80, 0, 1, 1, 1},
      {80, 3, 184, 80, 0, 1, 1, 1},
      {80, 3, 184, 80, 0, 1, 1, 1},
      {80, 3, 480, 112, 1, 1, 1, 1},
      {112, 3, 672, 112, 1, 1, 1, 1},
      {112, 5, 672, 160 / r, 1, 1, 2, d},
      {160 / r, 5, 960 / r, 160 / r, 1, 1, 1, d},
      {160 / r, 5, 960 / r, 160 / r, 1, 1, 1, d}
    };
    List<Stage> out = new ArrayList<>();
    for (int[] row : t) {
      out.add(
          new Stage(
              makeDivisible(row[0] * widthMult),
              row[1],
              makeDivisible(row[2] * widthMult),
              makeDivisible(row[3] * widthMult),
              row[4] == 1,
              row[5] == 1,
              row[6],
              row[7]));
    }
    return out;
  }

  /**
   * Creates a builder (default: MobileNetV3-Large, trainable batch norm with eps 0.001 and momentum
   * 0.01, returning the last child).
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the stages.
   *
   * @return the table this network was built from
   */
  public List<Stage> stages() {
    return stages;
  }

  @Override
  public int[] outChannels() {
    return Arrays.stream(returned).map(i -> channels[i]).toArray();
  }

  @Override
  public int[] strides() {
    return Arrays.stream(returned).map(i -> strides[i]).toArray();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    Backbones.checkImages(inputs, "images");
    NDList out = new NDList(returned.length);
    NDArray x = inputs.singletonOrThrow();
    int last = Arrays.stream(returned).max().getAsInt();
    for (int i = 0; i <= last; i++) {
      NDArray next =
          children.get(i).forward(parameterStore, new NDList(x), training).singletonOrThrow();
      if (i > 0 && !isReturned(i - 1)) {
        x.close();
      }
      x = next;
      if (isReturned(i)) {
        out.add(x);
      }
    }
    return out;
  }

  private boolean isReturned(int index) {
    for (int r : returned) {
      if (r == index) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    List<Shape> out = new ArrayList<>();
    Shape[] s = inputShapes;
    for (int i = 0; i < children.size(); i++) {
      s = children.get(i).getOutputShapes(s);
      if (isReturned(i)) {
        out.add(s[0]);
      }
    }
    return out.toArray(new Shape[0]);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] s = inputShapes;
    for (Block child : children) {
      child.initialize(manager, dataType, s);
      s = child.getOutputShapes(s);
    }
  }

  /** Builds a {@link MobileNetV3}. */
  public static final class Builder {

    private List<Stage> stages = large(1.0, false, false);
    private boolean frozenBatchNorm;
    private float bnEps = 0.001f;
    private float bnTorchMomentum = 0.01f;
    private int[] returnedIndices;
    private int trainableLayers = -1;

    private Builder() {}

    /**
     * Sets the table (default {@link MobileNetV3#large large(1.0, false, false)}).
     *
     * @param stages the stages, in order
     * @return this builder
     */
    public Builder optStages(List<Stage> stages) {
      if (stages == null || stages.isEmpty()) {
        throw new IllegalArgumentException("at least one stage is needed");
      }
      this.stages = List.copyOf(stages);
      return this;
    }

    /**
     * Uses {@link FrozenBatchNorm2d} (eps 1e-5) instead of trainable batch norms, as the FPN Faster
     * R-CNNs with published weights do (default {@code false}).
     *
     * @param frozen whether to freeze the norms
     * @return this builder
     */
    public Builder optFrozenBatchNorm(boolean frozen) {
      this.frozenBatchNorm = frozen;
      return this;
    }

    /**
     * Sets the trainable batch norms' epsilon and momentum as torchvision counts it (default 0.001
     * and 0.01; SSDlite uses 0.001 and 0.03).
     *
     * @param eps the epsilon
     * @param torchMomentum the momentum
     * @return this builder
     */
    public Builder optBatchNorm(float eps, float torchMomentum) {
      this.bnEps = eps;
      this.bnTorchMomentum = torchMomentum;
      return this;
    }

    /**
     * Returns these children's outputs, finest first (default: the last child only).
     *
     * @param indices increasing child indices
     * @return this builder
     */
    public Builder optReturnedIndices(int... indices) {
      for (int i = 1; i < indices.length; i++) {
        if (indices[i] <= indices[i - 1]) {
          throw new IllegalArgumentException(
              "returned indices must increase, got " + Arrays.toString(indices));
        }
      }
      if (indices.length == 0) {
        throw new IllegalArgumentException("at least one returned index is needed");
      }
      this.returnedIndices = indices.clone();
      return this;
    }

    /**
     * Sets how many stages train, counted from the top as torchvision's {@code
     * trainable_backbone_layers} for MobileNetV3 (default all; the detectors use 3).
     *
     * @param trainableLayers 0 to the number of stages (6 for the large network)
     * @return this builder
     */
    public Builder optTrainableLayers(int trainableLayers) {
      this.trainableLayers = trainableLayers;
      return this;
    }

    /**
     * Builds the network.
     *
     * @return the backbone (not initialised)
     * @throws IllegalArgumentException if the table does not chain or an index is out of range
     */
    public MobileNetV3 build() {
      if (trainableLayers == -1) {
        int starts = 2 + (int) stages.stream().filter(s -> s.stride() > 1).count();
        trainableLayers = starts;
      }
      return new MobileNetV3(this);
    }
  }
}
