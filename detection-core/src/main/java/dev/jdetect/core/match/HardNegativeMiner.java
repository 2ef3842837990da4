package dev.jdetect.core.match;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Hard-negative mining as in torchvision's SSD {@code compute_loss}: per image, the negatives with
 * the highest per-anchor loss are kept, {@code negPosRatio} of them per positive.
 *
 * <p>Per image, {@code numNeg = max(negPosRatio * numPositives, minNegatives)} (computed in float32
 * like torchvision; a negative is kept when its rank, 0-based in descending loss, is below {@code
 * numNeg}, so a fractional quota rounds up). The returned mask never contains positives, and it
 * holds fewer than {@code numNeg} anchors when the image has fewer negatives.
 *
 * <p><b>{@code minNegatives}</b>: torchvision 0.14.1 keeps no negative at all in an image with no
 * positives, so such an image (legal here: no ground truth, or no prior matched) teaches nothing
 * about background and a detector trained on many empty images drifts toward false positives. By
 * default {@code minNegatives} equals {@code negPosRatio} (rounded up), i.e. an image is treated as
 * having at least one positive; this is exactly the line that torchvision keeps commented out next
 * to its mining code ({@code num_negative[num_negative < ratio] = ratio}), and it changes nothing
 * for images that do have positives. Set it to 0 for bit-for-bit torchvision behaviour.
 *
 * <p>Deviation: when an image has more positives than its negatives can cover, torchvision's rank
 * mask also selects positives (which then count twice in its loss); this class masks them out. Ties
 * in loss are ordered by the engine's sort, as in torchvision.
 */
public final class HardNegativeMiner {

  private final float negPosRatio;
  private final int minNegatives;

  private HardNegativeMiner(float negPosRatio, int minNegatives) {
    this.negPosRatio = negPosRatio;
    this.minNegatives = minNegatives;
  }

  /**
   * Creates a builder with torchvision's ratio 3 and {@code minNegatives = ceil(negPosRatio)}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the number of negatives kept per positive.
   *
   * @return the neg:pos ratio
   */
  public float getNegPosRatio() {
    return negPosRatio;
  }

  /**
   * Returns the minimum number of negatives kept per image.
   *
   * @return the minimum, also applied to images without positives
   */
  public int getMinNegatives() {
    return minNegatives;
  }

  /**
   * Selects the hard negatives.
   *
   * @param perAnchorLoss float (N, A) classification loss per anchor (e.g. cross entropy against
   *     the background label for negatives); only its order matters, no gradient flows
   * @param positiveMask boolean (N, A), true for positive (foreground) anchors; an integer array is
   *     read as nonzero = positive
   * @return boolean (N, A) on the caller's manager and device: the negatives to keep
   * @throws IllegalArgumentException on shape mismatch, non-floating loss, or NaN loss
   */
  public NDArray select(NDArray perAnchorLoss, NDArray positiveMask) {
    if (perAnchorLoss == null || positiveMask == null) {
      throw new IllegalArgumentException(
          (perAnchorLoss == null ? "perAnchorLoss" : "positiveMask") + " must not be null");
    }
    Shape shape = perAnchorLoss.getShape();
    if (shape.dimension() != 2) {
      throw new IllegalArgumentException("perAnchorLoss must have shape (N, A), got " + shape);
    }
    if (!perAnchorLoss.getDataType().isFloating()) {
      throw new IllegalArgumentException(
          "perAnchorLoss must be floating-point, got " + perAnchorLoss.getDataType());
    }
    if (!positiveMask.getShape().equals(shape)) {
      throw new IllegalArgumentException(
          "positiveMask must have the shape of perAnchorLoss "
              + shape
              + ", got "
              + positiveMask.getShape());
    }
    if (shape.size() == 0) {
      return perAnchorLoss.getManager().zeros(shape, DataType.BOOLEAN, perAnchorLoss.getDevice());
    }
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray loss = perAnchorLoss.stopGradient();
      if (loss.isNaN().any().getBoolean()) {
        throw new IllegalArgumentException("perAnchorLoss of shape " + shape + " contains NaN");
      }
      NDArray positive =
          positiveMask.getDataType() == DataType.BOOLEAN ? positiveMask : positiveMask.neq(0);
      NDArray minusInf = loss.onesLike().mul(Float.NEGATIVE_INFINITY);
      NDArray negativeLoss = NDArrays.where(positive, minusInf, loss);
      NDArray order = negativeLoss.argSort(1, false);
      NDArray rank = order.argSort(1, true).toType(DataType.FLOAT32, false);
      NDArray quota =
          positive
              .toType(DataType.FLOAT32, false)
              .sum(new int[] {1}, true)
              .mul(negPosRatio)
              .maximum((float) minNegatives);
      result = rank.lt(quota).logicalAnd(positive.logicalNot());
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /** Builder for {@link HardNegativeMiner}. */
  public static final class Builder {
    private float negPosRatio = 3f;
    private Integer minNegatives;

    private Builder() {}

    /**
     * Sets the number of negatives per positive (default 3, torchvision's {@code (1 - 0.25) /
     * 0.25}).
     *
     * @param negPosRatio the ratio, finite and {@code >= 0}
     * @return this builder
     */
    public Builder optNegPosRatio(float negPosRatio) {
      this.negPosRatio = negPosRatio;
      return this;
    }

    /**
     * Sets the minimum number of negatives per image, also used for images without positives
     * (default {@code ceil(negPosRatio)}; 0 reproduces torchvision exactly).
     *
     * @param minNegatives the minimum, {@code >= 0}
     * @return this builder
     */
    public Builder optMinNegatives(int minNegatives) {
      this.minNegatives = minNegatives;
      return this;
    }

    /**
     * Builds the miner.
     *
     * @return the miner
     * @throws IllegalArgumentException if the ratio or the minimum is negative or not finite
     */
    public HardNegativeMiner build() {
      if (!Float.isFinite(negPosRatio) || negPosRatio < 0) {
        throw new IllegalArgumentException(
            "negPosRatio must be finite and >= 0, got " + negPosRatio);
      }
      int min = minNegatives != null ? minNegatives : (int) Math.ceil(negPosRatio);
      if (min < 0) {
        throw new IllegalArgumentException("minNegatives must be >= 0, got " + min);
      }
      return new HardNegativeMiner(negPosRatio, min);
    }
  }
}
