package dev.jdetect.models.zoo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.Backbone;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A small {@link Backbone} for training from scratch on a CPU: a plain stack of stages, each
 * halving the resolution with a stride-2 3x3 convolution followed by a 3x3 convolution (both with
 * batch norm and ReLU). The last {@code numSources} stages are the feature sources, so stage {@code
 * i} (0-based) has stride {@code 2^(i+1)}.
 *
 * <p>The {@code ssd-small} and {@code faster-rcnn-small} configurations of {@link ModelZoo} are
 * built on it ({@link SmallModels}).
 */
public final class SmallBackbone extends AbstractBlock implements Backbone {

  private final int[] channels;
  private final int numSources;
  private final List<SequentialBlock> stages = new ArrayList<>();

  /**
   * Creates the backbone.
   *
   * @param channels the output channels of each stage, e.g. {@code {16, 32, 64, 128}}
   * @param numSources how many of the last stages are feature sources, in {@code 1..stages}
   */
  public SmallBackbone(int[] channels, int numSources) {
    if (channels.length == 0 || numSources < 1 || numSources > channels.length) {
      throw new IllegalArgumentException(
          "need at least one stage and 1..stages sources, got channels "
              + Arrays.toString(channels)
              + ", numSources "
              + numSources);
    }
    this.channels = channels.clone();
    this.numSources = numSources;
    for (int i = 0; i < channels.length; i++) {
      SequentialBlock stage =
          new SequentialBlock()
              .add(conv(channels[i], 2))
              .add(BatchNorm.builder().build())
              .add(Activation::relu)
              .add(conv(channels[i], 1))
              .add(BatchNorm.builder().build())
              .add(Activation::relu);
      stages.add(addChildBlock("stage" + i, stage));
    }
  }

  private static Conv2d conv(int filters, int stride) {
    return Conv2d.builder()
        .setKernelShape(new Shape(3, 3))
        .optStride(new Shape(stride, stride))
        .optPadding(new Shape(1, 1))
        .setFilters(filters)
        .optBias(false)
        .build();
  }

  @Override
  public int[] outChannels() {
    return Arrays.copyOfRange(channels, channels.length - numSources, channels.length);
  }

  @Override
  public int[] strides() {
    int[] s = new int[numSources];
    for (int k = 0; k < numSources; k++) {
      s[k] = 1 << (channels.length - numSources + k + 1);
    }
    return s;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();
    NDList out = new NDList(numSources);
    for (int i = 0; i < stages.size(); i++) {
      x = stages.get(i).forward(ps, new NDList(x), training, params).singletonOrThrow();
      if (i >= stages.size() - numSources) {
        out.add(x);
      }
    }
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    Shape[] out = new Shape[numSources];
    long h = in.get(2);
    long w = in.get(3);
    for (int i = 0; i < channels.length; i++) {
      h = (h + 1) / 2;
      w = (w + 1) / 2;
      int k = i - (channels.length - numSources);
      if (k >= 0) {
        out[k] = new Shape(in.get(0), channels[i], h, w);
      }
    }
    return out;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape shape = inputShapes[0];
    for (SequentialBlock stage : stages) {
      stage.initialize(manager, dataType, shape);
      shape = stage.getOutputShapes(new Shape[] {shape})[0];
    }
  }
}
