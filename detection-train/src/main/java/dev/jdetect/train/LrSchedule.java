package dev.jdetect.train;

import java.util.Arrays;

/**
 * A learning-rate schedule evaluated per training step: an optional linear warm-up, then a
 * constant, multi-step or cosine rate. It is a pure function of the global step, so a resumed run
 * continues exactly where it stopped.
 *
 * <ul>
 *   <li>warm-up (torchvision's {@code LinearLR}): over the first {@code warmupSteps} steps the
 *       factor rises linearly from {@code warmupFactor} to 1;
 *   <li>multi-step ({@code MultiStepLR}): the rate is multiplied by {@code gamma} at the start of
 *       each milestone epoch;
 *   <li>cosine ({@code CosineAnnealingLR}, per step): after the warm-up the rate falls along half a
 *       cosine from the base rate to {@code minLr} at the end of {@code totalEpochs}.
 * </ul>
 *
 * <p>The warm-up factor multiplies the rate of the main schedule, as torchvision's {@code
 * SequentialLR}/chained schedulers do.
 */
public final class LrSchedule {

  private final double baseLr;
  private final long warmupSteps;
  private final double warmupFactor;
  private final int[] milestones;
  private final double gamma;
  private final int cosineEpochs;
  private final double minLr;

  private LrSchedule(Builder b) {
    this.baseLr = b.baseLr;
    this.warmupSteps = b.warmupSteps;
    this.warmupFactor = b.warmupFactor;
    this.milestones = b.milestones;
    this.gamma = b.gamma;
    this.cosineEpochs = b.cosineEpochs;
    this.minLr = b.minLr;
  }

  /**
   * Returns a builder: the base rate is required; without warm-up, multi-step or cosine the rate is
   * constant.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a constant schedule.
   *
   * @param lr the learning rate
   * @return the schedule
   */
  public static LrSchedule constant(double lr) {
    return builder().setBaseLr(lr).build();
  }

  /**
   * Returns the base learning rate.
   *
   * @return the rate after warm-up and before any decay
   */
  public double getBaseLr() {
    return baseLr;
  }

  /**
   * Returns the learning rate of a step.
   *
   * @param step the 0-based global step (counting from the first step of epoch 0)
   * @param stepsPerEpoch the number of steps in one epoch
   * @return the learning rate
   * @throws IllegalArgumentException if {@code step < 0} or {@code stepsPerEpoch < 1}
   */
  public double learningRate(long step, long stepsPerEpoch) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    if (stepsPerEpoch < 1) {
      throw new IllegalArgumentException("stepsPerEpoch must be >= 1, got " + stepsPerEpoch);
    }
    double lr = baseLr;
    if (cosineEpochs > 0) {
      long total = cosineEpochs * stepsPerEpoch - warmupSteps;
      long t = Math.min(Math.max(step - warmupSteps, 0), Math.max(total, 0));
      if (total > 0) {
        lr = minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t / total));
      }
    } else if (milestones.length > 0) {
      long epoch = step / stepsPerEpoch;
      for (int m : milestones) {
        if (epoch >= m) {
          lr *= gamma;
        }
      }
    }
    if (step < warmupSteps) {
      double alpha = (double) step / warmupSteps;
      lr *= warmupFactor * (1 - alpha) + alpha;
    }
    return lr;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("lr ").append(baseLr);
    if (warmupSteps > 0) {
      sb.append(", warm-up ").append(warmupSteps).append(" steps from x").append(warmupFactor);
    }
    if (cosineEpochs > 0) {
      sb.append(", cosine to ").append(minLr).append(" over ").append(cosineEpochs).append(" ep");
    } else if (milestones.length > 0) {
      sb.append(", x").append(gamma).append(" at epochs ").append(Arrays.toString(milestones));
    }
    return sb.toString();
  }

  /** Builds an {@link LrSchedule}. */
  public static final class Builder {
    private double baseLr = Double.NaN;
    private long warmupSteps;
    private double warmupFactor = 0.001;
    private int[] milestones = new int[0];
    private double gamma = 0.1;
    private int cosineEpochs;
    private double minLr;

    private Builder() {}

    /**
     * Sets the base learning rate (required).
     *
     * @param lr positive
     * @return this builder
     */
    public Builder setBaseLr(double lr) {
      if (!(lr > 0) || Double.isInfinite(lr)) {
        throw new IllegalArgumentException("base learning rate must be > 0, got " + lr);
      }
      this.baseLr = lr;
      return this;
    }

    /**
     * Sets a linear warm-up.
     *
     * @param steps number of warm-up steps (0 disables it)
     * @param startFactor the factor at step 0, in {@code (0, 1]} (torchvision uses 0.001)
     * @return this builder
     */
    public Builder optWarmup(long steps, double startFactor) {
      if (steps < 0) {
        throw new IllegalArgumentException("warm-up steps must be >= 0, got " + steps);
      }
      if (!(startFactor > 0 && startFactor <= 1)) {
        throw new IllegalArgumentException(
            "warm-up start factor must be in (0, 1], got " + startFactor);
      }
      this.warmupSteps = steps;
      this.warmupFactor = startFactor;
      return this;
    }

    /**
     * Multiplies the rate by {@code gamma} at the start of each milestone epoch (replaces cosine).
     *
     * @param gamma the decay factor, in {@code (0, 1]}
     * @param milestoneEpochs 0-based epochs at which to decay, increasing
     * @return this builder
     */
    public Builder optMultiStep(double gamma, int... milestoneEpochs) {
      if (!(gamma > 0 && gamma <= 1)) {
        throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
      }
      for (int i = 0; i < milestoneEpochs.length; i++) {
        if (milestoneEpochs[i] < 1 || (i > 0 && milestoneEpochs[i] <= milestoneEpochs[i - 1])) {
          throw new IllegalArgumentException(
              "milestoneEpochs must be positive and increasing, got "
                  + Arrays.toString(milestoneEpochs));
        }
      }
      this.gamma = gamma;
      this.milestones = milestoneEpochs.clone();
      this.cosineEpochs = 0;
      return this;
    }

    /**
     * Uses cosine annealing from the base rate to {@code minLr} at the end of {@code totalEpochs}
     * (replaces multi-step).
     *
     * @param totalEpochs the length of the run in epochs, positive
     * @param minLr the final rate, {@code >= 0}
     * @return this builder
     */
    public Builder optCosine(int totalEpochs, double minLr) {
      if (totalEpochs < 1) {
        throw new IllegalArgumentException("totalEpochs must be >= 1, got " + totalEpochs);
      }
      if (!(minLr >= 0)) {
        throw new IllegalArgumentException("minLr must be >= 0, got " + minLr);
      }
      this.cosineEpochs = totalEpochs;
      this.minLr = minLr;
      this.milestones = new int[0];
      return this;
    }

    /**
     * Builds the schedule.
     *
     * @return the schedule
     * @throws IllegalStateException if no base learning rate is set
     */
    public LrSchedule build() {
      if (Double.isNaN(baseLr)) {
        throw new IllegalStateException("the base learning rate must be set (setBaseLr)");
      }
      return new LrSchedule(this);
    }
  }
}
