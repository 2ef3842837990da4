package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * torchvision's ResNet {@code Bottleneck} (ResNet v1.5: the stride sits on the 3x3 convolution):
 * children {@code conv1} (1x1), {@code bn1}, {@code conv2} (3x3), {@code bn2}, {@code conv3} (1x1,
 * 4x expansion), {@code bn3}, {@code relu} and, when the shape changes, {@code downsample}
 * (position 0 a 1x1 strided convolution, position 1 its norm).
 */
public final class Bottleneck extends AbstractBlock {

  /** Channel expansion of the last 1x1 convolution. */
  public static final int EXPANSION = 4;

  private final Block conv1;
  private final Block bn1;
  private final Block conv2;
  private final Block bn2;
  private final Block conv3;
  private final Block bn3;
  private final Block relu;
  private final SequentialBlock downsample;
  private final int stride;

  /**
   * Creates a bottleneck block.
   *
   * @param width the width of the inner 1x1 and 3x3 convolutions (64, 128, 256, 512 in ResNet-50)
   * @param stride the stride of the 3x3 convolution (and of the downsample branch)
   * @param withDownsample whether the block has a {@code downsample} branch
   * @param frozenBatchNorm whether its norms are {@link FrozenBatchNorm2d}
   */
  public Bottleneck(int width, int stride, boolean withDownsample, boolean frozenBatchNorm) {
    if (width <= 0 || stride <= 0) {
      throw new IllegalArgumentException(
          "width and stride must be > 0, got width=" + width + " stride=" + stride);
    }
    this.stride = stride;
    conv1 = addChildBlock("conv1", ConvBlocks.conv(width, 1, 1, 0, 1, false));
    bn1 = addChildBlock("bn1", norm(frozenBatchNorm));
    conv2 = addChildBlock("conv2", ConvBlocks.conv(width, 3, stride, 1, 1, false));
    bn2 = addChildBlock("bn2", norm(frozenBatchNorm));
    conv3 = addChildBlock("conv3", ConvBlocks.conv(width * EXPANSION, 1, 1, 0, 1, false));
    bn3 = addChildBlock("bn3", norm(frozenBatchNorm));
    relu = addChildBlock("relu", Activation.reluBlock());
    if (withDownsample) {
      SequentialBlock ds = new SequentialBlock();
      ds.add(ConvBlocks.conv(width * EXPANSION, 1, stride, 0, 1, false));
      ds.add(norm(frozenBatchNorm));
      downsample = addChildBlock("downsample", ds);
    } else {
      downsample = null;
    }
  }

  static Block norm(boolean frozen) {
    return frozen ? new FrozenBatchNorm2d() : ConvBlocks.batchNorm(1e-5f, 0.1f);
  }

  /**
   * Returns the stride of this block.
   *
   * @return the stride
   */
  public int getStride() {
    return stride;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    NDList y = conv1.forward(ps, new NDList(x), training);
    y = relu.forward(ps, bn1.forward(ps, y, training), training);
    y = conv2.forward(ps, y, training);
    y = relu.forward(ps, bn2.forward(ps, y, training), training);
    y = conv3.forward(ps, y, training);
    y = bn3.forward(ps, y, training);
    NDArray identity = downsample == null ? x : downsample.forward(ps, inputs, training).head();
    return new NDList(Activation.relu(y.head().add(identity)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] s = inputShapes;
    for (Block b : new Block[] {conv1, conv2, conv3}) {
      s = b.getOutputShapes(s);
    }
    return s;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] s = inputShapes;
    for (Block b : new Block[] {conv1, bn1, conv2, bn2, conv3, bn3}) {
      b.initialize(manager, dataType, s);
      s = b.getOutputShapes(s);
    }
    relu.initialize(manager, dataType, s);
    if (downsample != null) {
      downsample.initialize(manager, dataType, inputShapes);
    }
  }
}
