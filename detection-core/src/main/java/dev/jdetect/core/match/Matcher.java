package dev.jdetect.core.match;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Assigns each prediction (anchor or proposal) at most one ground-truth box from a quality matrix,
 * with torchvision's {@code Matcher} semantics.
 *
 * <p>For every prediction the best ground truth is taken (the first one on ties). If its quality is
 * {@code >= highThreshold} the prediction is matched to it; if it is in {@code [lowThreshold,
 * highThreshold)} the prediction gets {@link #BETWEEN_THRESHOLDS}; below {@code lowThreshold} it
 * gets {@link #BELOW_LOW_THRESHOLD}. With {@code allowLowQualityMatches}, every prediction that
 * reaches the highest quality of some ground truth (all ties included, even when that quality is 0)
 * is matched to its own best ground truth regardless of the thresholds.
 *
 * <p>Unlike torchvision, an image without ground truth is legal: all predictions get {@link
 * #BELOW_LOW_THRESHOLD} (background). Thresholds are compared in float32, as torchvision compares a
 * float32 tensor with a Python float.
 */
public final class Matcher {

  /** Code for predictions whose best quality is below the low threshold (background). */
  public static final int BELOW_LOW_THRESHOLD = -1;

  /** Code for predictions whose best quality lies in {@code [low, high)} (ignored). */
  public static final int BETWEEN_THRESHOLDS = -2;

  private final float highThreshold;
  private final float lowThreshold;
  private final boolean allowLowQualityMatches;

  private Matcher(Builder builder) {
    this.highThreshold = builder.highThreshold;
    this.lowThreshold = builder.lowThreshold;
    this.allowLowQualityMatches = builder.allowLowQualityMatches;
  }

  /**
   * Creates a builder with torchvision's RPN defaults (high 0.7, low 0.3, no low-quality matches).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the high threshold.
   *
   * @return qualities {@code >=} this value are matches
   */
  public float getHighThreshold() {
    return highThreshold;
  }

  /**
   * Returns the low threshold.
   *
   * @return qualities below this value are background
   */
  public float getLowThreshold() {
    return lowThreshold;
  }

  /**
   * Returns whether low-quality matches are added.
   *
   * @return true if each ground truth's best predictions are always matched
   */
  public boolean isAllowLowQualityMatches() {
    return allowLowQualityMatches;
  }

  /**
   * Matches predictions to ground truths.
   *
   * @param iou the quality matrix, float (G, A): ground truths by predictions; G or A may be 0
   * @return int64 (A) on the caller's manager and device: the matched ground-truth index, {@link
   *     #BELOW_LOW_THRESHOLD} or {@link #BETWEEN_THRESHOLDS}
   * @throws IllegalArgumentException if {@code iou} is not a 2-D floating array or holds NaN
   */
  public NDArray match(NDArray iou) {
    checkQualityMatrix(iou);
    long numGt = iou.getShape().get(0);
    long numPred = iou.getShape().get(1);
    if (numPred == 0 || numGt == 0) {
      return iou.getManager()
          .full(new Shape(numPred), BELOW_LOW_THRESHOLD, DataType.INT64, iou.getDevice());
    }
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      result = matchNonEmpty(iou, lowThreshold, highThreshold, allowLowQualityMatches);
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Core of the matcher for G > 0 and A > 0; callers manage the scope.
   *
   * @param iou the (G, A) quality matrix
   * @param low the low threshold
   * @param high the high threshold
   * @param lowQuality whether to add low-quality matches
   * @return int64 (A) codes
   */
  static NDArray matchNonEmpty(NDArray iou, float low, float high, boolean lowQuality) {
    NDArray bestValue = iou.max(new int[] {0});
    NDArray bestGt = iou.argMax(0);
    NDArray minusOne = bestGt.onesLike().neg();
    NDArray minusTwo = minusOne.mul(2);
    NDArray below = bestValue.lt(low);
    NDArray between = bestValue.gte(low).logicalAnd(bestValue.lt(high));
    NDArray result = NDArrays.where(below, minusOne, NDArrays.where(between, minusTwo, bestGt));
    if (lowQuality) {
      NDArray bestPerGt = iou.max(new int[] {1}, true);
      NDArray isBestOfSomeGt =
          iou.eq(bestPerGt).toType(DataType.INT32, false).max(new int[] {0}).gt(0);
      result = NDArrays.where(isBestOfSomeGt, bestGt, result);
    }
    return result;
  }

  /**
   * Validates a (G, A) quality matrix.
   *
   * @param iou the matrix
   */
  static void checkQualityMatrix(NDArray iou) {
    if (iou == null) {
      throw new IllegalArgumentException("iou must not be null");
    }
    Shape shape = iou.getShape();
    if (shape.dimension() != 2) {
      throw new IllegalArgumentException(
          "iou must have shape (G, A) (ground truths x predictions), got " + shape);
    }
    if (!iou.getDataType().isFloating()) {
      throw new IllegalArgumentException(
          "iou must be a floating-point array, got " + iou.getDataType() + " of shape " + shape);
    }
    if (shape.size() > 0) {
      try (NDArray nan = iou.isNaN();
          NDArray any = nan.any()) {
        if (any.getBoolean()) {
          throw new IllegalArgumentException("iou of shape " + shape + " contains NaN");
        }
      }
    }
  }

  /** Builder for {@link Matcher}. */
  public static final class Builder {
    private float highThreshold = 0.7f;
    private float lowThreshold = 0.3f;
    private boolean allowLowQualityMatches;

    private Builder() {}

    /**
     * Sets the high threshold (default 0.7).
     *
     * @param highThreshold qualities {@code >=} this value are matches
     * @return this builder
     */
    public Builder optHighThreshold(float highThreshold) {
      this.highThreshold = highThreshold;
      return this;
    }

    /**
     * Sets the low threshold (default 0.3).
     *
     * @param lowThreshold qualities below this value are background
     * @return this builder
     */
    public Builder optLowThreshold(float lowThreshold) {
      this.lowThreshold = lowThreshold;
      return this;
    }

    /**
     * Sets both thresholds at once.
     *
     * @param highThreshold the high threshold
     * @param lowThreshold the low threshold
     * @return this builder
     */
    public Builder optThresholds(float highThreshold, float lowThreshold) {
      this.highThreshold = highThreshold;
      this.lowThreshold = lowThreshold;
      return this;
    }

    /**
     * Sets whether each ground truth's best predictions are matched even below the thresholds
     * (default false; torchvision's RPN uses true).
     *
     * @param allowLowQualityMatches the flag
     * @return this builder
     */
    public Builder optAllowLowQualityMatches(boolean allowLowQualityMatches) {
      this.allowLowQualityMatches = allowLowQualityMatches;
      return this;
    }

    /**
     * Builds the matcher.
     *
     * @return the matcher
     * @throws IllegalArgumentException if a threshold is not finite or low &gt; high
     */
    public Matcher build() {
      if (!Float.isFinite(highThreshold)) {
        throw new IllegalArgumentException("highThreshold must be finite, got " + highThreshold);
      }
      if (!Float.isFinite(lowThreshold)) {
        throw new IllegalArgumentException("lowThreshold must be finite, got " + lowThreshold);
      }
      if (lowThreshold > highThreshold) {
        throw new IllegalArgumentException(
            "lowThreshold must be <= highThreshold, got lowThreshold="
                + lowThreshold
                + ", highThreshold="
                + highThreshold);
      }
      return new Matcher(this);
    }
  }
}
