package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * torchvision's MobileNetV2 {@code InvertedResidual}: one child {@code conv}, a sequential of an
 * optional 1x1 expansion {@code Conv2dNormActivation} (ReLU6), a 3x3 depthwise {@code
 * Conv2dNormActivation} (ReLU6) carrying the stride, a 1x1 projection convolution without bias and
 * its batch norm; the input is added back when the stride is 1 and the channel count stays.
 */
public final class InvertedResidual extends AbstractBlock {

  private final SequentialBlock conv;
  private final int stride;
  private final boolean useResConnect;
  private final int outChannels;

  /**
   * Creates an inverted residual block.
   *
   * @param inChannels the input channel count
   * @param outChannels the output channel count
   * @param stride 1 or 2
   * @param expandRatio the expansion ratio (1 skips the expansion layer)
   * @param bnEps the batch-norm epsilon
   * @param bnTorchMomentum the batch-norm momentum as torchvision counts it
   */
  public InvertedResidual(
      int inChannels,
      int outChannels,
      int stride,
      int expandRatio,
      float bnEps,
      float bnTorchMomentum) {
    if (stride != 1 && stride != 2) {
      throw new IllegalArgumentException("stride must be 1 or 2, got " + stride);
    }
    if (inChannels <= 0 || outChannels <= 0 || expandRatio <= 0) {
      throw new IllegalArgumentException(
          "inChannels, outChannels, expandRatio must be > 0, got "
              + inChannels
              + ", "
              + outChannels
              + ", "
              + expandRatio);
    }
    this.stride = stride;
    this.outChannels = outChannels;
    this.useResConnect = stride == 1 && inChannels == outChannels;
    int hidden = inChannels * expandRatio;
    SequentialBlock seq = new SequentialBlock();
    if (expandRatio != 1) {
      seq.add(
          ConvBlocks.convNormActivation(
              hidden, 1, 1, 1, ConvBlocks.Act.RELU6, bnEps, bnTorchMomentum));
    }
    seq.add(
        ConvBlocks.convNormActivation(
            hidden, 3, stride, hidden, ConvBlocks.Act.RELU6, bnEps, bnTorchMomentum));
    seq.add(ConvBlocks.conv(outChannels, 1, 1, 0, 1, false));
    seq.add(ConvBlocks.batchNorm(bnEps, bnTorchMomentum));
    conv = addChildBlock("conv", seq);
  }

  /**
   * Returns the {@code conv} sequential block.
   *
   * @return the layers of this block in torchvision order
   */
  public SequentialBlock getConv() {
    return conv;
  }

  /**
   * Returns the stride of the depthwise convolution.
   *
   * @return 1 or 2
   */
  public int getStride() {
    return stride;
  }

  /**
   * Returns whether the input is added to the output.
   *
   * @return torchvision's {@code use_res_connect}
   */
  public boolean usesResidual() {
    return useResConnect;
  }

  /**
   * Returns the output channel count.
   *
   * @return the output channels
   */
  public int getOutChannels() {
    return outChannels;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray y = SequentialForward.releasing(conv, ps, inputs, training, params).head();
    if (!useResConnect) {
      return new NDList(y);
    }
    NDArray sum = y.add(inputs.head());
    y.close(); // autograd keeps what it needs; the early release lets the memory be reused
    return new NDList(sum);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return conv.getOutputShapes(inputShapes);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    conv.initialize(manager, dataType, inputShapes);
  }
}
