package dev.jdetect.core.match;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * SSD's matcher (torchvision {@code SSDMatcher}): a prediction is matched to its best ground truth
 * when the quality is {@code >= threshold}, otherwise it is background ({@link
 * Matcher#BELOW_LOW_THRESHOLD}); then every ground truth takes its own best prior (first on ties),
 * whatever the quality. When several ground truths share a best prior, the one with the highest
 * index wins (what torchvision's indexed assignment does on CPU).
 *
 * <p>An image without ground truth is legal: all predictions are background.
 */
public final class SsdMatcher {

  private final float threshold;

  private SsdMatcher(Builder builder) {
    this.threshold = builder.threshold;
  }

  /**
   * Creates a builder with torchvision's default threshold 0.5.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the IoU threshold.
   *
   * @return qualities {@code >=} this value are matches
   */
  public float getThreshold() {
    return threshold;
  }

  /**
   * Matches predictions (default boxes) to ground truths.
   *
   * @param iou the quality matrix, float (G, A): ground truths by predictions; G or A may be 0
   * @return int64 (A) on the caller's manager and device: ground-truth index or {@link
   *     Matcher#BELOW_LOW_THRESHOLD}
   * @throws IllegalArgumentException if {@code iou} is not a 2-D floating array or holds NaN
   */
  public NDArray match(NDArray iou) {
    Matcher.checkQualityMatrix(iou);
    long numGt = iou.getShape().get(0);
    long numPred = iou.getShape().get(1);
    if (numPred == 0 || numGt == 0) {
      return iou.getManager()
          .full(new Shape(numPred), Matcher.BELOW_LOW_THRESHOLD, DataType.INT64, iou.getDevice());
    }
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray matches = Matcher.matchNonEmpty(iou, threshold, threshold, false);
      // (G, 1) index of each ground truth's best prior, compared against every prior index.
      NDArray bestPrior = iou.argMax(1).expandDims(1);
      NDArray priorIndex = matches.onesLike().cumSum(0).sub(1).expandDims(0);
      NDArray isBest = priorIndex.eq(bestPrior);
      NDArray gtIndex =
          bestPrior.onesLike().cumSum(0).sub(1).broadcast(isBest.getShape()).duplicate();
      NDArray none = gtIndex.onesLike().neg();
      // Highest ground-truth index claiming each prior, -1 if none.
      NDArray claimedBy = NDArrays.where(isBest, gtIndex, none).max(new int[] {0});
      result = NDArrays.where(claimedBy.gte(0), claimedBy, matches);
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /** Builder for {@link SsdMatcher}. */
  public static final class Builder {
    private float threshold = 0.5f;

    private Builder() {}

    /**
     * Sets the IoU threshold (default 0.5).
     *
     * @param threshold qualities {@code >=} this value are matches
     * @return this builder
     */
    public Builder optThreshold(float threshold) {
      this.threshold = threshold;
      return this;
    }

    /**
     * Builds the matcher.
     *
     * @return the matcher
     * @throws IllegalArgumentException if the threshold is not finite
     */
    public SsdMatcher build() {
      if (!Float.isFinite(threshold)) {
        throw new IllegalArgumentException("threshold must be finite, got " + threshold);
      }
      return new SsdMatcher(this);
    }
  }
}
