package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.core.nd.Scalars;

/**
 * MobileNetV3's piecewise-linear activations, as PyTorch computes them: {@code hardswish(x) = x *
 * min(max(x + 3, 0), 6) / 6} and {@code hardsigmoid(x) = min(max(x + 3, 0), 6) / 6}. Under autograd
 * the constants go through {@link Scalars}, which keeps them alive until backward.
 */
public final class HardActivations {

  private HardActivations() {}

  /**
   * Returns a parameter-free hardswish block.
   *
   * @return the block
   */
  public static Block hardswishBlock() {
    return new LambdaBlock(in -> new NDList(hardswish(in.singletonOrThrow())), "Hardswish");
  }

  /**
   * Returns a parameter-free hardsigmoid block.
   *
   * @return the block
   */
  public static Block hardsigmoidBlock() {
    return new LambdaBlock(in -> new NDList(hardsigmoid(in.singletonOrThrow())), "Hardsigmoid");
  }

  /**
   * Computes {@code x * relu6(x + 3) / 6}.
   *
   * @param x any float array
   * @return the activation, on the array's manager
   */
  public static NDArray hardswish(NDArray x) {
    NDArray gate = relu6Shifted(x);
    NDArray product = gate.mul(x);
    gate.close();
    NDArray out = Autograd.mayNeedGradient(x) ? Scalars.div(product, 6) : product.div(6f);
    product.close();
    return out;
  }

  /**
   * Computes {@code relu6(x + 3) / 6}.
   *
   * @param x any float array
   * @return the activation, on the array's manager
   */
  public static NDArray hardsigmoid(NDArray x) {
    NDArray gate = relu6Shifted(x);
    NDArray out = Autograd.mayNeedGradient(x) ? Scalars.div(gate, 6) : gate.div(6f);
    gate.close();
    return out;
  }

  /** {@code min(max(x + 3, 0), 6)}. */
  private static NDArray relu6Shifted(NDArray x) {
    if (!Autograd.mayNeedGradient(x)) {
      NDArray shifted = x.add(3f);
      NDArray out = shifted.clip(0f, 6f);
      shifted.close();
      return out;
    }
    NDArray three = Scalars.scalar(x, 3);
    NDArray shifted = x.add(three);
    NDArray relu = Activation.relu(shifted);
    shifted.close();
    NDArray out = Scalars.minimum(relu, 6);
    relu.close();
    return out;
  }
}
