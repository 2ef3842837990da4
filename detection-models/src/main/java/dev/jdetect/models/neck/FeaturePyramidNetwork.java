package dev.jdetect.models.neck;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.ssd.ModuleList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * torchvision's {@code FeaturePyramidNetwork}: a 1x1 lateral convolution per input level ({@code
 * inner_blocks.i}), a top-down pass that adds each coarser level, upsampled by nearest neighbour to
 * the finer level's size, and a 3x3 output convolution per level ({@code layer_blocks.i}); then
 * optional extra levels ({@code extra_blocks}). Each lateral and output block is torchvision's
 * {@code Conv2dNormActivation} without activation: a biased convolution at position 0, or with
 * {@link Builder#optBatchNorm(boolean)} an unbiased one followed by a batch norm at position 1, as
 * the v2 detectors use.
 *
 * <p>Input: one feature map per level, finest first; output: {@code outChannels} maps at the same
 * sizes, then the extra levels. Weights start as torchvision's ({@code kaiming_uniform_(a=1)}, zero
 * bias).
 */
public final class FeaturePyramidNetwork extends AbstractBlock {

  /** torchvision's {@code kaiming_uniform_(w, a=1)}: uniform in {@code ±sqrt(3 / fan_in)}. */
  static final Initializer KAIMING_UNIFORM_A1 =
      new XavierInitializer(
          XavierInitializer.RandomType.UNIFORM, XavierInitializer.FactorType.IN, 3f);

  private static final int NEAREST = 0;

  private final int[] inChannels;
  private final int outChannels;
  private final ModuleList innerBlocks;
  private final ModuleList layerBlocks;
  private final ExtraFpnBlock extraBlocks;

  private FeaturePyramidNetwork(Builder b) {
    ConvolutionCheck.ensureCorrect();
    this.inChannels = b.inChannels.clone();
    this.outChannels = b.outChannels;
    List<Block> inner = new ArrayList<>();
    List<Block> layer = new ArrayList<>();
    for (int i = 0; i < inChannels.length; i++) {
      inner.add(convNorm(1, b.batchNorm));
      layer.add(convNorm(3, b.batchNorm));
    }
    this.innerBlocks = addChildBlock("inner_blocks", new ModuleList(inner));
    this.layerBlocks = addChildBlock("layer_blocks", new ModuleList(layer));
    this.extraBlocks = b.extraBlocks == null ? null : addChildBlock("extra_blocks", b.extraBlocks);
  }

  private SequentialBlock convNorm(int kernel, boolean batchNorm) {
    Conv2d conv = ConvBlocks.conv(outChannels, kernel, 1, (kernel - 1) / 2, 1, !batchNorm);
    conv.setInitializer(KAIMING_UNIFORM_A1, Parameter.Type.WEIGHT);
    SequentialBlock block = new SequentialBlock().add(conv);
    if (batchNorm) {
      block.add(ConvBlocks.batchNorm(1e-5f, 0.1f));
    }
    return block;
  }

  /**
   * Creates a builder; input channels and output channels are required.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the channels of each input level, finest first.
   *
   * @return a copy of the input channels
   */
  public int[] inChannels() {
    return inChannels.clone();
  }

  /**
   * Returns the channels of every output level.
   *
   * @return the output channels
   */
  public int outChannels() {
    return outChannels;
  }

  /**
   * Returns the number of output levels: one per input level plus the extra levels.
   *
   * @return the level count
   */
  public int numLevels() {
    return inChannels.length + (extraBlocks == null ? 0 : extraBlocks.extraLevels());
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    int n = inChannels.length;
    if (inputs.size() != n) {
      throw new IllegalArgumentException(
          "the pyramid takes " + n + " feature maps, finest first; got " + inputs.size());
    }
    NDArray[] results = new NDArray[n];
    NDArray lastInner = apply(innerBlocks.get(n - 1), parameterStore, inputs.get(n - 1), training);
    results[n - 1] = apply(layerBlocks.get(n - 1), parameterStore, lastInner, training);
    for (int i = n - 2; i >= 0; i--) {
      NDArray lateral = apply(innerBlocks.get(i), parameterStore, inputs.get(i), training);
      Shape size = lateral.getShape();
      NDArray topDown =
          lastInner
              .getNDArrayInternal()
              .interpolation(new long[] {size.get(2), size.get(3)}, NEAREST, false);
      lastInner.close();
      lastInner = lateral.add(topDown);
      lateral.close();
      topDown.close();
      results[i] = apply(layerBlocks.get(i), parameterStore, lastInner, training);
    }
    lastInner.close();
    NDList out = new NDList(Arrays.asList(results));
    if (extraBlocks != null) {
      out.addAll(extraBlocks.extraLevels(parameterStore, out, inputs, training));
    }
    return out;
  }

  private static NDArray apply(Block block, ParameterStore ps, NDArray x, boolean training) {
    return block.forward(ps, new NDList(x), training).singletonOrThrow();
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] pyramid = pyramidShapes(inputShapes);
    if (extraBlocks == null) {
      return pyramid;
    }
    Shape[] extra = extraBlocks.extraShapes(pyramid, inputShapes);
    Shape[] all = Arrays.copyOf(pyramid, pyramid.length + extra.length);
    System.arraycopy(extra, 0, all, pyramid.length, extra.length);
    return all;
  }

  private Shape[] pyramidShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[inputShapes.length];
    for (int i = 0; i < out.length; i++) {
      Shape s = inputShapes[i];
      out[i] = new Shape(s.get(0), outChannels, s.get(2), s.get(3));
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    if (inputShapes.length != inChannels.length) {
      throw new IllegalArgumentException(
          "the pyramid takes " + inChannels.length + " input shapes, got " + inputShapes.length);
    }
    innerBlocks.initialize(manager, dataType, inputShapes);
    Shape[] pyramid = pyramidShapes(inputShapes);
    layerBlocks.initialize(manager, dataType, pyramid);
    if (extraBlocks != null) {
      extraBlocks.initializeExtra(manager, dataType, pyramid, inputShapes);
    }
  }

  /** Builds a {@link FeaturePyramidNetwork}. */
  public static final class Builder {

    private int[] inChannels;
    private int outChannels;
    private ExtraFpnBlock extraBlocks;
    private boolean batchNorm;

    private Builder() {}

    /**
     * Sets the channels of each input level, finest first (required).
     *
     * @param inChannels e.g. {@code 256, 512, 1024, 2048} for ResNet-50's layer1..layer4
     * @return this builder
     */
    public Builder setInChannels(int... inChannels) {
      this.inChannels = inChannels.clone();
      return this;
    }

    /**
     * Sets the channels of every output level (required; torchvision's detectors use 256).
     *
     * @param outChannels the output channels
     * @return this builder
     */
    public Builder setOutChannels(int outChannels) {
      this.outChannels = outChannels;
      return this;
    }

    /**
     * Appends extra levels after the top-down pass (default none).
     *
     * @param extraBlocks e.g. {@link LastLevelMaxPool} or {@link LastLevelP6P7}
     * @return this builder
     */
    public Builder optExtraBlocks(ExtraFpnBlock extraBlocks) {
      this.extraBlocks = extraBlocks;
      return this;
    }

    /**
     * Puts a batch norm after every convolution, which then has no bias (default {@code false}; the
     * v2 detectors use it).
     *
     * @param batchNorm whether to normalise
     * @return this builder
     */
    public Builder optBatchNorm(boolean batchNorm) {
      this.batchNorm = batchNorm;
      return this;
    }

    /**
     * Builds the pyramid.
     *
     * @return the block (not initialised)
     * @throws IllegalArgumentException if a required setting is missing or not positive
     */
    public FeaturePyramidNetwork build() {
      if (inChannels == null || inChannels.length == 0) {
        throw new IllegalArgumentException("setInChannels: at least one input level is required");
      }
      for (int c : inChannels) {
        if (c <= 0) {
          throw new IllegalArgumentException(
              "input channels must be > 0, got " + Arrays.toString(inChannels));
        }
      }
      if (outChannels <= 0) {
        throw new IllegalArgumentException("setOutChannels: must be > 0, got " + outChannels);
      }
      return new FeaturePyramidNetwork(this);
    }
  }
}
