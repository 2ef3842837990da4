package dev.jdetect.core.nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a constant that is safe under autograd on DJL 0.35.1's PyTorch engine.
 *
 * <p><b>Why this exists.</b> On the CPU, DJL builds an array from Java data ({@code
 * manager.create(float[])}, and internally every {@code x.mul(2f)}, {@code x.div(n)}, {@code
 * x.pow(n)}, {@code x.maximum(n)}) with {@code torch::from_blob} over a direct {@code ByteBuffer}
 * that only the Java wrapper keeps alive. {@code x.mul(Number)} creates such a scalar and closes it
 * at once; autograd still holds the scalar for the backward pass, and once the garbage collector
 * frees the buffer, backward reads freed memory: gradients become garbage or NaN, or the JVM
 * crashes. The methods here create constants with {@code torch::full} instead, whose storage
 * PyTorch owns and reference-counts, so closing the wrapper early is harmless.
 *
 * <p>Rule for jdetect code on a path that may need gradients: no {@code op(Number)} for {@code
 * mul}, {@code div}, {@code pow}, {@code maximum}, {@code minimum} (their backward reads the
 * constant); use these helpers. {@code add(Number)} and {@code sub(Number)} are safe (their
 * backward does not read the constant). Arrays made from Java data that take part in a
 * differentiable op must stay open until backward has run, or be made with {@link
 * #constant(NDManager, float[], Shape)}.
 */
public final class Scalars {

  private Scalars() {}

  /**
   * Returns a 0-d array holding {@code value}, with {@code like}'s data type and device, owned by
   * PyTorch.
   *
   * @param like the array whose type, device and manager to use
   * @param value the value
   * @return the scalar array
   */
  public static NDArray scalar(NDArray like, double value) {
    DataType type = like.getDataType().isFloating() ? like.getDataType() : DataType.FLOAT32;
    NDArray scalar = like.getManager().full(new Shape(), (float) value, type);
    if (scalar.getDevice().equals(like.getDevice())) {
      return scalar;
    }
    NDArray moved = scalar.toDevice(like.getDevice(), false);
    scalar.close();
    return moved;
  }

  /**
   * Returns {@code x * value}.
   *
   * @param x the array
   * @param value the constant
   * @return the product
   */
  public static NDArray mul(NDArray x, double value) {
    try (NDArray c = scalar(x, value)) {
      return x.mul(c);
    }
  }

  /**
   * Returns {@code x / value}.
   *
   * @param x the array
   * @param value the constant
   * @return the quotient
   */
  public static NDArray div(NDArray x, double value) {
    try (NDArray c = scalar(x, value)) {
      return x.div(c);
    }
  }

  /**
   * Returns {@code x ^ value}.
   *
   * @param x the array
   * @param value the exponent
   * @return the power
   */
  public static NDArray pow(NDArray x, double value) {
    try (NDArray c = scalar(x, value)) {
      return x.pow(c);
    }
  }

  /**
   * Returns the element-wise maximum of {@code x} and {@code value}.
   *
   * @param x the array
   * @param value the constant
   * @return the maximum
   */
  public static NDArray maximum(NDArray x, double value) {
    try (NDArray c = scalar(x, value)) {
      return x.maximum(c);
    }
  }

  /**
   * Returns the element-wise minimum of {@code x} and {@code value}.
   *
   * @param x the array
   * @param value the constant
   * @return the minimum
   */
  public static NDArray minimum(NDArray x, double value) {
    try (NDArray c = scalar(x, value)) {
      return x.minimum(c);
    }
  }

  /**
   * Creates an array from Java data whose storage PyTorch owns (a copy), so that it may be closed
   * before a backward pass that reads it.
   *
   * @param manager the manager of the result
   * @param data the values
   * @param shape the shape
   * @return the array
   */
  public static NDArray constant(NDManager manager, float[] data, Shape shape) {
    try (NDArray view = manager.create(data, shape)) {
      return view.duplicate();
    }
  }
}
