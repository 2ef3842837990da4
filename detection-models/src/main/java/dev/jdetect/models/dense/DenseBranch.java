package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.backbone.GroupNorm;
import java.util.ArrayList;
import java.util.List;

/**
 * One branch of a dense detection head, shared by every pyramid level: a tower of 3x3 convolutions
 * (each followed by an optional {@link GroupNorm} and a ReLU), then one or more 3x3 output
 * convolutions. torchvision's RetinaNet and FCOS classification and regression heads have this
 * shape.
 *
 * <p>Children carry torchvision's names: {@code conv} (a sequence of conv-norm-ReLU sequences, so
 * the first convolution is {@code conv.0.0} and its norm {@code conv.0.1}, as RetinaNet's {@code
 * Conv2dNormActivation}; or, in the flat layout of FCOS, one sequence {@code conv.0} (conv), {@code
 * conv.1} (norm), {@code conv.2} (ReLU), {@code conv.3} (conv), ...) and one child per output under
 * its given name ({@code cls_logits}, {@code bbox_reg}, ...). Tower convolutions have a bias only
 * without a norm in the nested layout, always in the flat one. Every convolution weight starts as
 * N(0, 0.01); biases start at 0 unless an output asks for another constant (RetinaNet's
 * prior-probability bias).
 *
 * <p>Forward: one {@code (N, C, H_l, W_l)} map per level in; out the maps of the first output for
 * every level, then those of the second output, and so on.
 */
public final class DenseBranch extends AbstractBlock {

  private static final byte VERSION = 1;

  private final SequentialBlock tower;
  private final List<Conv2d> outputs = new ArrayList<>();
  private final int[] outputChannels;

  private DenseBranch(Builder b) {
    super(VERSION);
    SequentialBlock convs = new SequentialBlock();
    for (int i = 0; i < b.depth; i++) {
      // the flat layout keeps every convolution's bias, as FCOS's plain nn.Conv2d
      SequentialBlock layer = b.flat ? convs : new SequentialBlock();
      layer.add(ConvBlocks.conv(b.inChannels, 3, 1, 1, 1, b.flat || b.groupNormGroups == 0));
      if (b.groupNormGroups > 0) {
        layer.add(new GroupNorm(b.groupNormGroups));
      }
      layer.add(Activation.reluBlock());
      if (!b.flat) {
        convs.add(layer);
      }
    }
    this.tower = addChildBlock("conv", convs);
    this.outputChannels = new int[b.names.size()];
    for (int i = 0; i < b.names.size(); i++) {
      Conv2d out = ConvBlocks.conv(b.channels.get(i), 3, 1, 1, 1, true);
      outputs.add(addChildBlock(b.names.get(i), out));
      outputChannels[i] = b.channels.get(i);
    }
    setInitializer(new NormalInitializer(0.01f), Parameter.Type.WEIGHT);
    for (int i = 0; i < outputs.size(); i++) {
      float bias = b.biases.get(i);
      if (bias != 0f) {
        outputs.get(i).setInitializer(new ConstantInitializer(bias), Parameter.Type.BIAS);
      }
    }
  }

  /**
   * Returns a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the number of outputs.
   *
   * @return the output convolutions
   */
  public int numOutputs() {
    return outputs.size();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    List<NDList> perOutput = new ArrayList<>(outputs.size());
    for (int o = 0; o < outputs.size(); o++) {
      perOutput.add(new NDList(inputs.size()));
    }
    for (NDArray feature : inputs) {
      NDList t = tower.forward(parameterStore, new NDList(feature), training);
      for (int o = 0; o < outputs.size(); o++) {
        perOutput
            .get(o)
            .add(outputs.get(o).forward(parameterStore, t, training).singletonOrThrow());
      }
    }
    NDList out = new NDList(inputs.size() * outputs.size());
    for (NDList list : perOutput) {
      out.addAll(list);
    }
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[inputShapes.length * outputs.size()];
    for (int o = 0; o < outputs.size(); o++) {
      for (int l = 0; l < inputShapes.length; l++) {
        Shape s = inputShapes[l];
        out[o * inputShapes.length + l] =
            new Shape(s.get(0), outputChannels[o], s.get(2), s.get(3));
      }
    }
    return out;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape first = inputShapes[0];
    tower.initialize(manager, dataType, first);
    for (Conv2d out : outputs) {
      out.initialize(manager, dataType, first);
    }
  }

  /** A builder of {@link DenseBranch}. */
  public static final class Builder {

    private int inChannels = -1;
    private int depth = 4;
    private int groupNormGroups;
    private boolean flat;
    private final List<String> names = new ArrayList<>();
    private final List<Integer> channels = new ArrayList<>();
    private final List<Float> biases = new ArrayList<>();

    private Builder() {}

    /**
     * Sets the channel count of the feature maps; the tower keeps it (required).
     *
     * @param inChannels channels
     * @return this builder
     */
    public Builder setInChannels(int inChannels) {
      this.inChannels = inChannels;
      return this;
    }

    /**
     * Sets the number of tower convolutions (torchvision: 4).
     *
     * @param depth convolutions, {@code >= 0}
     * @return this builder
     */
    public Builder optDepth(int depth) {
      this.depth = depth;
      return this;
    }

    /**
     * Puts a {@link GroupNorm} with this many groups after every tower convolution (default 0,
     * none; torchvision's v2 RetinaNet and FCOS use 32).
     *
     * @param groups groups, 0 for no norm
     * @return this builder
     */
    public Builder optGroupNorm(int groups) {
      this.groupNormGroups = groups;
      return this;
    }

    /**
     * Lays the tower out flat as torchvision's FCOS heads do (default false, RetinaNet's nested
     * layout).
     *
     * @param flat whether conv, norm and ReLU are consecutive children of one sequence
     * @return this builder
     */
    public Builder optFlatTower(boolean flat) {
      this.flat = flat;
      return this;
    }

    /**
     * Adds an output convolution (at least one is required).
     *
     * @param name the child's name, torchvision's attribute ({@code cls_logits}, {@code bbox_reg})
     * @param outChannels its channels
     * @param initialBias the constant its bias starts at
     * @return this builder
     */
    public Builder addOutput(String name, int outChannels, float initialBias) {
      names.add(name);
      channels.add(outChannels);
      biases.add(initialBias);
      return this;
    }

    /**
     * Builds the branch.
     *
     * @return the branch
     * @throws IllegalArgumentException on missing or invalid settings
     */
    public DenseBranch build() {
      if (inChannels < 1 || depth < 0 || groupNormGroups < 0 || names.isEmpty()) {
        throw new IllegalArgumentException(
            "a dense branch needs inChannels >= 1 (got "
                + inChannels
                + "), depth >= 0 (got "
                + depth
                + "), groups >= 0 (got "
                + groupNormGroups
                + ") and at least one output (got "
                + names.size()
                + ")");
      }
      if (groupNormGroups > 0 && inChannels % groupNormGroups != 0) {
        throw new IllegalArgumentException(
            groupNormGroups + " norm groups do not divide " + inChannels + " channels");
      }
      for (int c : channels) {
        if (c < 1) {
          throw new IllegalArgumentException("output channels must be >= 1, got " + channels);
        }
      }
      return new DenseBranch(this);
    }
  }
}
