package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.core.nd.Scalars;

/**
 * Factories for the small convolution stacks the backbones and heads share, laid out like
 * torchvision's modules so that their {@code state_dict} names line up.
 */
public final class ConvBlocks {

  /** The activation that closes a {@link #convNormActivation} stack. */
  public enum Act {
    /** {@code nn.ReLU}. */
    RELU,
    /** {@code nn.ReLU6}. */
    RELU6,
    /** No activation: the stack has only the convolution and the batch norm. */
    NONE
  }

  private ConvBlocks() {}

  /**
   * Returns a 2-D convolution with torchvision's {@code nn.Conv2d} semantics.
   *
   * @param outChannels the number of output channels
   * @param kernel the square kernel size
   * @param stride the stride
   * @param padding the zero padding on each side
   * @param groups the number of groups ({@code outChannels} for a depthwise convolution)
   * @param bias whether the convolution has a bias
   * @return the convolution block
   */
  public static Conv2d conv(
      int outChannels, int kernel, int stride, int padding, int groups, boolean bias) {
    return conv(outChannels, kernel, stride, padding, 1, groups, bias);
  }

  /**
   * Returns a 2-D convolution with torchvision's {@code nn.Conv2d} semantics and a dilation.
   *
   * @param outChannels the number of output channels
   * @param kernel the square kernel size
   * @param stride the stride
   * @param padding the zero padding on each side
   * @param dilation the dilation
   * @param groups the number of groups
   * @param bias whether the convolution has a bias
   * @return the convolution block
   */
  public static Conv2d conv(
      int outChannels,
      int kernel,
      int stride,
      int padding,
      int dilation,
      int groups,
      boolean bias) {
    if (outChannels <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || groups <= 0) {
      throw new IllegalArgumentException(
          "conv: outChannels, kernel, stride, groups must be > 0 and padding >= 0, got out="
              + outChannels
              + " kernel="
              + kernel
              + " stride="
              + stride
              + " padding="
              + padding
              + " groups="
              + groups);
    }
    return FoldableConv2d.builder()
        .setFilters(outChannels)
        .setKernelShape(new Shape(kernel, kernel))
        .optStride(new Shape(stride, stride))
        .optPadding(new Shape(padding, padding))
        .optDilation(new Shape(dilation, dilation))
        .optGroups(groups)
        .optBias(bias)
        .build();
  }

  /**
   * Returns a batch norm over the channel axis with torchvision's {@code nn.BatchNorm2d}
   * parameters.
   *
   * @param eps the epsilon added to the variance (torchvision default 1e-5)
   * @param torchMomentum the running-statistics momentum as torchvision counts it (default 0.1)
   * @return the batch-norm block
   */
  public static BatchNorm batchNorm(float eps, float torchMomentum) {
    return BatchNorm.builder().optEpsilon(eps).optMomentum(1f - torchMomentum).build();
  }

  /**
   * Returns the block for an activation kind.
   *
   * @param act the activation kind, not {@link Act#NONE}
   * @return a parameter-free activation block
   */
  public static Block activation(Act act) {
    switch (act) {
      case RELU:
        return Activation.reluBlock();
      case RELU6:
        return new LambdaBlock(ConvBlocks::relu6, "ReLU6");
      default:
        throw new IllegalArgumentException("act: no block for " + act);
    }
  }

  /**
   * ReLU6. Without autograd it is one {@code clip(0, 6)}. With autograd it is {@code min(relu(x),
   * 6)} with a constant that outlives the backward pass: DJL's {@code Activation.relu6} and {@code
   * clip} make their bounds with {@code from_blob} and free them before backward reads them. The
   * intermediate {@code relu(x)} is released at once (autograd holds its own reference).
   */
  private static NDList relu6(NDList inputs) {
    NDArray x = inputs.singletonOrThrow();
    if (!Autograd.mayNeedGradient(x)) {
      return new NDList(x.clip(0f, 6f));
    }
    NDArray relu = Activation.relu(x);
    NDArray out = Scalars.minimum(relu, 6f);
    relu.close();
    return new NDList(out);
  }

  /**
   * Returns torchvision's {@code Conv2dNormActivation}: a sequential of convolution (no bias,
   * padding {@code (kernel - 1) / 2}), batch norm and activation at positions 0, 1, 2.
   *
   * @param outChannels the number of output channels
   * @param kernel the square kernel size
   * @param stride the stride
   * @param groups the number of groups
   * @param act the closing activation
   * @param bnEps the batch-norm epsilon
   * @param bnTorchMomentum the batch-norm momentum as torchvision counts it
   * @return the sequential block
   */
  public static SequentialBlock convNormActivation(
      int outChannels,
      int kernel,
      int stride,
      int groups,
      Act act,
      float bnEps,
      float bnTorchMomentum) {
    SequentialBlock block = new SequentialBlock();
    block.add(conv(outChannels, kernel, stride, (kernel - 1) / 2, groups, false));
    block.add(batchNorm(bnEps, bnTorchMomentum));
    if (act != Act.NONE) {
      block.add(activation(act));
    }
    return block;
  }
}
