package dev.jdetect.core.match;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.RandomUtils;
import java.util.Random;

/**
 * Picks a fixed-size batch of positive and negative training examples per image, with a target
 * positive fraction (torchvision {@code BalancedPositiveNegativeSampler}).
 *
 * <p>Labels {@code >= 1} are positives, {@code 0} negatives and anything else (e.g. {@code -1}) is
 * ignored and never picked. At most {@code (int) (batchSizePerImage * positiveFraction)} positives
 * are drawn; the rest of the batch is filled with negatives, so an image with too few positives
 * gets more negatives, and an image with too few of both simply yields fewer examples. The draw is
 * uniform without replacement from the instance's {@link Random} (by default DJL's shared
 * generator, seeded by {@code Engine.setRandomSeed}), so a fixed seed gives a reproducible sequence
 * (the draws differ from torch's {@code randperm}; only the counts and the distribution match).
 * With {@link Builder#optTakeAll(boolean)} every positive and every negative is kept, which makes
 * results deterministic for tests.
 *
 * <p>The labels are read to the host once per call: picking a few hundred indices out of a few
 * thousand is cheaper on the CPU than any device round of sorting random keys, and the masks are
 * created on the labels' device.
 *
 * <p>Instances hold a {@link Random}; share one across threads only if the interleaving of draws
 * does not matter.
 */
public final class BalancedPositiveNegativeSampler {

  private final int batchSizePerImage;
  private final double positiveFraction;
  private final boolean takeAll;
  private final Random random;

  private BalancedPositiveNegativeSampler(Builder builder) {
    this.batchSizePerImage = builder.batchSizePerImage;
    this.positiveFraction = builder.positiveFraction;
    this.takeAll = builder.takeAll;
    if (builder.random != null) {
      this.random = builder.random;
    } else if (builder.seed != null) {
      this.random = new Random(builder.seed);
    } else {
      // DJL's shared generator, which Engine.setRandomSeed seeds: a trainer that seeds the engine
      // before every step makes the draws of an unseeded sampler reproducible
      this.random = RandomUtils.RANDOM;
    }
  }

  /**
   * Creates a builder with torchvision's RPN settings (256 per image, positive fraction 0.5).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the number of examples drawn per image.
   *
   * @return the batch size per image
   */
  public int getBatchSizePerImage() {
    return batchSizePerImage;
  }

  /**
   * Returns the target fraction of positives.
   *
   * @return the positive fraction
   */
  public double getPositiveFraction() {
    return positiveFraction;
  }

  /**
   * Returns whether all positives and negatives are kept.
   *
   * @return the take-all flag
   */
  public boolean isTakeAll() {
    return takeAll;
  }

  /**
   * Samples positives and negatives of one image.
   *
   * @param matchedLabels (A) integer or floating labels: {@code >= 1} positive, {@code 0} negative,
   *     other values ignored
   * @return the positive and negative masks, boolean (A) arrays on the labels' manager and device
   * @throws IllegalArgumentException if {@code matchedLabels} is not 1-D or holds NaN
   */
  public SampleMasks sample(NDArray matchedLabels) {
    if (matchedLabels == null) {
      throw new IllegalArgumentException("matchedLabels must not be null");
    }
    Shape shape = matchedLabels.getShape();
    if (shape.dimension() != 1) {
      throw new IllegalArgumentException("matchedLabels must have shape (A), got " + shape);
    }
    int size = Math.toIntExact(shape.get(0));
    boolean[] isPositive;
    boolean[] isNegative;
    try (NDArray pos = matchedLabels.gte(1);
        NDArray neg = matchedLabels.eq(0)) {
      if (matchedLabels.getDataType().isFloating()) {
        try (NDArray nan = matchedLabels.isNaN();
            NDArray any = nan.any()) {
          if (any.getBoolean()) {
            throw new IllegalArgumentException("matchedLabels of shape " + shape + " contains NaN");
          }
        }
      }
      isPositive = pos.toBooleanArray();
      isNegative = neg.toBooleanArray();
    }
    int[] positives = indicesOf(isPositive);
    int[] negatives = indicesOf(isNegative);

    int numPos;
    int numNeg;
    if (takeAll) {
      numPos = positives.length;
      numNeg = negatives.length;
    } else {
      numPos = Math.min(positives.length, (int) (batchSizePerImage * positiveFraction));
      numNeg = Math.min(negatives.length, batchSizePerImage - numPos);
      partialShuffle(positives, numPos);
      partialShuffle(negatives, numNeg);
    }
    boolean[] positiveMask = new boolean[size];
    boolean[] negativeMask = new boolean[size];
    for (int i = 0; i < numPos; i++) {
      positiveMask[positives[i]] = true;
    }
    for (int i = 0; i < numNeg; i++) {
      negativeMask[negatives[i]] = true;
    }
    NDManager manager = matchedLabels.getManager();
    return new SampleMasks(
        onDevice(manager.create(positiveMask), matchedLabels),
        onDevice(manager.create(negativeMask), matchedLabels));
  }

  private static NDArray onDevice(NDArray mask, NDArray like) {
    if (mask.getDevice().equals(like.getDevice())) {
      return mask;
    }
    NDArray moved = mask.toDevice(like.getDevice(), false);
    mask.close();
    return moved;
  }

  private static int[] indicesOf(boolean[] flags) {
    int count = 0;
    for (boolean flag : flags) {
      if (flag) {
        count++;
      }
    }
    int[] indices = new int[count];
    int next = 0;
    for (int i = 0; i < flags.length; i++) {
      if (flags[i]) {
        indices[next++] = i;
      }
    }
    return indices;
  }

  /** Moves a uniform random {@code k}-subset (in random order) to the front of {@code values}. */
  private void partialShuffle(int[] values, int k) {
    for (int i = 0; i < k; i++) {
      int j = i + random.nextInt(values.length - i);
      int tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
  }

  /** Builder for {@link BalancedPositiveNegativeSampler}. */
  public static final class Builder {
    private int batchSizePerImage = 256;
    private double positiveFraction = 0.5;
    private boolean takeAll;
    private Long seed;
    private Random random;

    private Builder() {}

    /**
     * Sets the number of examples per image (default 256, torchvision's RPN; its box head uses
     * 512).
     *
     * @param batchSizePerImage the batch size per image, {@code >= 1}
     * @return this builder
     */
    public Builder optBatchSizePerImage(int batchSizePerImage) {
      this.batchSizePerImage = batchSizePerImage;
      return this;
    }

    /**
     * Sets the target fraction of positives (default 0.5, torchvision's RPN; its box head uses
     * 0.25). Pass a double literal: {@code 0.7f} widened to double is 0.699999988 and would round
     * the positive quota down.
     *
     * @param positiveFraction the fraction in [0, 1]
     * @return this builder
     */
    public Builder optPositiveFraction(double positiveFraction) {
      this.positiveFraction = positiveFraction;
      return this;
    }

    /**
     * Seeds a new {@link Random} for the sampler (default: DJL's shared {@code
     * ai.djl.util.RandomUtils.RANDOM}, which {@code Engine.getInstance().setRandomSeed} seeds, so a
     * trainer that seeds the engine also fixes the sampler's draws).
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Uses the given random source (takes precedence over {@link #optSeed(long)}).
     *
     * @param random the random source
     * @return this builder
     */
    public Builder optRandom(Random random) {
      this.random = random;
      return this;
    }

    /**
     * Keeps every positive and every negative instead of sampling (default false). The batch size
     * and fraction are then unused; meant for deterministic tests and full-batch losses.
     *
     * @param takeAll the flag
     * @return this builder
     */
    public Builder optTakeAll(boolean takeAll) {
      this.takeAll = takeAll;
      return this;
    }

    /**
     * Builds the sampler.
     *
     * @return the sampler
     * @throws IllegalArgumentException if the batch size is below 1 or the fraction is outside [0,
     *     1]
     */
    public BalancedPositiveNegativeSampler build() {
      if (batchSizePerImage < 1) {
        throw new IllegalArgumentException(
            "batchSizePerImage must be >= 1, got " + batchSizePerImage);
      }
      if (!(positiveFraction >= 0 && positiveFraction <= 1)) {
        throw new IllegalArgumentException(
            "positiveFraction must be in [0, 1], got " + positiveFraction);
      }
      return new BalancedPositiveNegativeSampler(this);
    }
  }
}
