package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dev.jdetect.models.backbone.ConvBlocks;
import java.util.ArrayList;
import java.util.List;

/**
 * A box head of convolutions then fully connected layers (torchvision's {@code FastRCNNConvFCHead},
 * the box head of {@code fasterrcnn_resnet50_fpn_v2}): 3x3 convolutions, each followed by an
 * optional batch norm and ReLU, then a flatten and linear layers with ReLU.
 *
 * <p>Children are numbered as torchvision's sequential: {@code 0 .. c-1} the convolution stacks
 * ({@code i.0} the convolution, {@code i.1} the batch norm), {@code c} the flatten, then each
 * linear layer followed by its ReLU. torchvision's v2 head is 4 convolutions of 256 with batch norm
 * and one layer of 1024 ({@code box_head.0.0.weight} .. {@code box_head.5.weight}). Convolution
 * weights start as Kaiming normal (fan out), linear layers as PyTorch's {@code nn.Linear}.
 *
 * <p>Forward: {@code (K, C, H, W)} in, {@code (K, units)} out (the last layer's units).
 */
public final class FastRcnnConvFcHead extends AbstractBlock {

  private static final byte VERSION = 1;

  private final List<Block> layers = new ArrayList<>();
  private final int outUnits;

  private FastRcnnConvFcHead(Builder b) {
    super(VERSION);
    for (int channels : b.convChannels) {
      SequentialBlock stack = new SequentialBlock();
      Conv2d conv = ConvBlocks.conv(channels, 3, 1, 1, 1, !b.batchNorm);
      conv.setInitializer(
          new XavierInitializer(
              XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.OUT, 2f),
          Parameter.Type.WEIGHT);
      stack.add(conv);
      if (b.batchNorm) {
        stack.add(ConvBlocks.batchNorm(1e-5f, 0.1f));
      }
      stack.add(Activation.reluBlock());
      add(stack);
    }
    add(Blocks.batchFlattenBlock());
    for (int units : b.fcUnits) {
      add(Linear.builder().setUnits(units).build());
      add(Activation.reluBlock());
    }
    this.outUnits = b.fcUnits[b.fcUnits.length - 1];
  }

  private void add(Block block) {
    layers.add(addChildBlock(Integer.toString(layers.size()), block));
  }

  /**
   * Returns a builder (no layers; set both lists).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the width of the last layer.
   *
   * @return units of the output
   */
  public int getUnits() {
    return outUnits;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    if (inputs.singletonOrThrow().getShape().dimension() != 4) {
      throw new IllegalArgumentException(
          "box features must be (K, C, H, W), got " + inputs.singletonOrThrow().getShape());
    }
    NDList x = inputs;
    for (Block layer : layers) {
      NDList next = layer.forward(parameterStore, x, training);
      if (x != inputs) {
        x.close();
      }
      x = next;
    }
    return x;
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), outUnits)};
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] s = inputShapes;
    for (Block layer : layers) {
      if (layer instanceof Linear) {
        TwoMlpHead.initLinear((Linear) layer, s[0].get(1));
      }
      layer.initialize(manager, dataType, s);
      s = layer.getOutputShapes(s);
    }
  }

  /** A builder of {@link FastRcnnConvFcHead}. */
  public static final class Builder {

    private int[] convChannels = {};
    private int[] fcUnits = {};
    private boolean batchNorm;

    private Builder() {}

    /**
     * Sets the output channels of the 3x3 convolutions, in order (torchvision's v2: four of 256).
     *
     * @param channels one entry per convolution, may be empty
     * @return this builder
     */
    public Builder setConvChannels(int... channels) {
      this.convChannels = channels.clone();
      return this;
    }

    /**
     * Sets the units of the fully connected layers, in order (torchvision's v2: one of 1024).
     *
     * @param units one entry per layer, at least one
     * @return this builder
     */
    public Builder setFcUnits(int... units) {
      this.fcUnits = units.clone();
      return this;
    }

    /**
     * Puts a batch norm (eps 1e-5, momentum 0.1) after each convolution, which then has no bias
     * (default false: convolutions with bias).
     *
     * @param batchNorm whether to normalise
     * @return this builder
     */
    public Builder optBatchNorm(boolean batchNorm) {
      this.batchNorm = batchNorm;
      return this;
    }

    /**
     * Builds the head.
     *
     * @return the head
     * @throws IllegalArgumentException without a fully connected layer or with a width below 1
     */
    public FastRcnnConvFcHead build() {
      if (fcUnits.length == 0) {
        throw new IllegalArgumentException("at least one fully connected layer is needed");
      }
      for (int c : convChannels) {
        if (c < 1) {
          throw new IllegalArgumentException("conv channels must be >= 1, got " + c);
        }
      }
      for (int u : fcUnits) {
        if (u < 1) {
          throw new IllegalArgumentException("fc units must be >= 1, got " + u);
        }
      }
      return new FastRcnnConvFcHead(this);
    }
  }
}
