package dev.jdetect.core.match;

import ai.djl.ndarray.NDArray;

/**
 * The examples a {@link BalancedPositiveNegativeSampler} picked from one image: two boolean masks
 * over the same items, never both true at one index.
 *
 * @param positive {@code (A)} boolean, true where a positive was picked
 * @param negative {@code (A)} boolean, true where a negative was picked
 */
public record SampleMasks(NDArray positive, NDArray negative) {

  /**
   * Returns the indices of the picked positives.
   *
   * @return {@code (P)} int64 indices, ascending
   */
  public NDArray positiveIndices() {
    return positive.nonzero().squeeze(1);
  }

  /**
   * Returns the indices of the picked negatives.
   *
   * @return {@code (Q)} int64 indices, ascending
   */
  public NDArray negativeIndices() {
    return negative.nonzero().squeeze(1);
  }

  /**
   * Returns the indices of every picked example, positive or negative.
   *
   * @return {@code (P + Q)} int64 indices, ascending
   */
  public NDArray sampledIndices() {
    return positive.logicalOr(negative).nonzero().squeeze(1);
  }
}
