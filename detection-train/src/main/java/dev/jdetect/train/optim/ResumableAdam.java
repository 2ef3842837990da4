package dev.jdetect.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * Adam with the semantics of {@code torch.optim.Adam} (L2 weight decay added to the gradient) or,
 * with {@link Builder#optDecoupledWeightDecay(boolean)}, {@code torch.optim.AdamW}:
 *
 * <pre>
 * g = grad (+ weightDecay * w for Adam)       w = w * (1 - lr * weightDecay) for AdamW
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * g * g
 * w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * <p>{@code t} counts the updates of each parameter, as PyTorch's per-parameter {@code step}.
 *
 * <p>Use it instead of DJL's {@code ai.djl.training.optimizer.Adam} with {@code DetectionTrainer}:
 * its moment estimates and step counts are saved in checkpoints and restored exactly (see {@link
 * ResumableOptimizer}).
 */
public final class ResumableAdam extends ResumableOptimizer {

  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final float weightDecay;
  private final boolean decoupled;

  private ResumableAdam(Builder builder) {
    this.beta1 = builder.beta1;
    this.beta2 = builder.beta2;
    this.epsilon = builder.epsilon;
    this.weightDecay = builder.weightDecay;
    this.decoupled = builder.decoupled;
  }

  /**
   * Returns a builder with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String algorithm() {
    return decoupled ? "adamw" : "adam";
  }

  @Override
  protected int buffersPerParameter() {
    return 2;
  }

  @Override
  protected String describeHyperParameters() {
    return "beta1="
        + beta1
        + ",beta2="
        + beta2
        + ",eps="
        + epsilon
        + ",weightDecay="
        + weightDecay
        + ",decoupled="
        + decoupled;
  }

  @Override
  protected NDList apply(NDArray weight, NDArray grad, NDList state, long step, double lr) {
    NDArray g = grad;
    if (weightDecay != 0f) {
      if (decoupled) {
        weight.muli((float) (1.0 - lr * weightDecay));
      } else {
        g = g.add(weight.mul(weightDecay));
      }
    }
    NDList created = null;
    NDArray m;
    NDArray v;
    if (state == null) {
      m = g.mul(1f - beta1);
      v = g.mul(g).muli(1f - beta2);
      created = new NDList(m, v);
    } else {
      m = state.get(0);
      v = state.get(1);
      m.muli(beta1).addi(g.mul(1f - beta1));
      v.muli(beta2).addi(g.mul(g).muli(1f - beta2));
    }
    double bias1 = 1.0 - Math.pow(beta1, step);
    double bias2 = 1.0 - Math.pow(beta2, step);
    float stepSize = (float) (lr / bias1);
    NDArray denom = v.sqrt().divi((float) Math.sqrt(bias2)).addi(epsilon);
    weight.subi(m.div(denom).muli(stepSize));
    return created;
  }

  /** Builds a {@link ResumableAdam}. */
  public static final class Builder {
    private float beta1 = 0.9f;
    private float beta2 = 0.999f;
    private float epsilon = 1e-8f;
    private float weightDecay;
    private boolean decoupled;

    private Builder() {}

    /**
     * Sets the decay rates of the first and second moment estimates.
     *
     * @param beta1 in {@code [0, 1)}, default 0.9
     * @param beta2 in {@code [0, 1)}, default 0.999
     * @return this builder
     */
    public Builder optBetas(float beta1, float beta2) {
      this.beta1 = checkFraction("beta1", beta1);
      this.beta2 = checkFraction("beta2", beta2);
      return this;
    }

    /**
     * Sets the term added to the denominator for numerical stability.
     *
     * @param epsilon positive, default 1e-8
     * @return this builder
     */
    public Builder optEpsilon(float epsilon) {
      if (!(epsilon > 0f) || Float.isInfinite(epsilon)) {
        throw new IllegalArgumentException("epsilon must be > 0, got " + epsilon);
      }
      this.epsilon = epsilon;
      return this;
    }

    /**
     * Sets the weight decay.
     *
     * @param weightDecay non-negative, default 0
     * @return this builder
     */
    public Builder optWeightDecay(float weightDecay) {
      this.weightDecay = checkWeightDecay(weightDecay);
      return this;
    }

    /**
     * Chooses decoupled weight decay (AdamW) instead of L2 added to the gradient (Adam).
     *
     * @param decoupled default false
     * @return this builder
     */
    public Builder optDecoupledWeightDecay(boolean decoupled) {
      this.decoupled = decoupled;
      return this;
    }

    /**
     * Builds the optimizer.
     *
     * @return the optimizer
     */
    public ResumableAdam build() {
      return new ResumableAdam(this);
    }
  }
}
