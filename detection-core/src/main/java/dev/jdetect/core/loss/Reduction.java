package dev.jdetect.core.loss;

import ai.djl.ndarray.NDArray;

/** How a loss reduces its per-element values, as PyTorch's {@code reduction} argument. */
public enum Reduction {
  /** No reduction: one value per element. */
  NONE,
  /** The mean of all elements (NaN for an empty input, as {@code torch.mean}). */
  MEAN,
  /** The sum of all elements (0 for an empty input). */
  SUM;

  /**
   * Applies this reduction.
   *
   * @param loss the per-element loss
   * @return {@code loss} itself, its mean or its sum (a scalar)
   */
  public NDArray apply(NDArray loss) {
    switch (this) {
      case MEAN:
        return loss.mean();
      case SUM:
        return loss.sum();
      default:
        return loss;
    }
  }
}
