package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * torchvision's {@code SqueezeExcitation} as MobileNetV3 uses it: global average pooling, a 1x1
 * convolution to {@code squeeze} channels ({@code fc1}), ReLU, a 1x1 convolution back ({@code fc2})
 * and a hardsigmoid gate that scales each input channel.
 */
public final class SqueezeExcitation extends AbstractBlock {

  private final Conv2d fc1;
  private final Conv2d fc2;

  /**
   * Creates the block.
   *
   * @param channels the input (and output) channels
   * @param squeeze the channels in between
   */
  public SqueezeExcitation(int channels, int squeeze) {
    this.fc1 = addChildBlock("fc1", ConvBlocks.conv(squeeze, 1, 1, 0, 1, true));
    this.fc2 = addChildBlock("fc2", ConvBlocks.conv(channels, 1, 1, 0, 1, true));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    Shape in = x.getShape();
    NDArray global = Pool.globalAvgPool2d(x);
    NDArray pooled = global.reshape(in.get(0), in.get(1), 1, 1);
    global.close();
    NDArray squeezed = fc1.forward(parameterStore, new NDList(pooled), training).singletonOrThrow();
    pooled.close();
    NDArray relu = Activation.relu(squeezed);
    squeezed.close();
    NDArray excited = fc2.forward(parameterStore, new NDList(relu), training).singletonOrThrow();
    relu.close();
    NDArray gate = HardActivations.hardsigmoid(excited);
    excited.close();
    NDArray out = gate.mul(x);
    gate.close();
    return new NDList(out);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = inputShapes[0];
    Shape pooled = new Shape(in.get(0), in.get(1), 1, 1);
    fc1.initialize(manager, dataType, pooled);
    fc2.initialize(manager, dataType, fc1.getOutputShapes(new Shape[] {pooled}));
  }
}
