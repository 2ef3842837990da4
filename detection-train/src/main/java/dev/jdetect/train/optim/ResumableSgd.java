package dev.jdetect.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay, with
 * the semantics of {@code torch.optim.SGD} (the optimizer of torchvision's detection references):
 *
 * <pre>
 * g = grad + weightDecay * w
 * buf = g                                  (first update)
 * buf = momentum * buf + (1 - dampening) * g   (later updates)
 * g = nesterov ? g + momentum * buf : buf
 * w = w - lr * g
 * </pre>
 *
 * <p>With momentum 0 no buffer is kept and the update is plain {@code w -= lr * g}.
 *
 * <p>Use it instead of DJL's {@code ai.djl.training.optimizer.Sgd} with {@code DetectionTrainer}:
 * its momentum buffers are saved in checkpoints and restored exactly (see {@link
 * ResumableOptimizer}).
 */
public final class ResumableSgd extends ResumableOptimizer {

  private final float momentum;
  private final float dampening;
  private final float weightDecay;
  private final boolean nesterov;

  private ResumableSgd(Builder builder) {
    this.momentum = builder.momentum;
    this.dampening = builder.dampening;
    this.weightDecay = builder.weightDecay;
    this.nesterov = builder.nesterov;
  }

  /**
   * Returns a builder with torchvision's detection defaults: momentum 0.9, weight decay 1e-4, no
   * dampening, no Nesterov.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String algorithm() {
    return "sgd";
  }

  @Override
  protected int buffersPerParameter() {
    return momentum == 0f ? 0 : 1;
  }

  @Override
  protected String describeHyperParameters() {
    return "momentum="
        + momentum
        + ",dampening="
        + dampening
        + ",weightDecay="
        + weightDecay
        + ",nesterov="
        + nesterov;
  }

  @Override
  protected NDList apply(NDArray weight, NDArray grad, NDList state, long step, double lr) {
    NDArray g = grad;
    if (weightDecay != 0f) {
      g = g.add(weight.mul(weightDecay));
    }
    NDList created = null;
    if (momentum != 0f) {
      NDArray buf;
      if (state == null) {
        buf = g.duplicate();
        created = new NDList(buf);
      } else {
        buf = state.get(0);
        buf.muli(momentum).addi(dampening == 0f ? g : g.mul(1f - dampening));
      }
      g = nesterov ? g.add(buf.mul(momentum)) : buf;
    }
    weight.subi(g.mul((float) lr));
    return created;
  }

  /** Builds a {@link ResumableSgd}. */
  public static final class Builder {
    private float momentum = 0.9f;
    private float dampening;
    private float weightDecay = 1e-4f;
    private boolean nesterov;

    private Builder() {}

    /**
     * Sets the momentum factor.
     *
     * @param momentum in {@code [0, 1)}, default 0.9
     * @return this builder
     */
    public Builder optMomentum(float momentum) {
      this.momentum = checkFraction("momentum", momentum);
      return this;
    }

    /**
     * Sets the dampening of the momentum.
     *
     * @param dampening in {@code [0, 1]}, default 0
     * @return this builder
     */
    public Builder optDampening(float dampening) {
      if (!(dampening >= 0f && dampening <= 1f)) {
        throw new IllegalArgumentException("dampening must be in [0, 1], got " + dampening);
      }
      this.dampening = dampening;
      return this;
    }

    /**
     * Sets the L2 weight decay added to the gradient.
     *
     * @param weightDecay non-negative, default 1e-4
     * @return this builder
     */
    public Builder optWeightDecay(float weightDecay) {
      this.weightDecay = checkWeightDecay(weightDecay);
      return this;
    }

    /**
     * Turns Nesterov momentum on or off.
     *
     * @param nesterov default false; needs momentum &gt; 0 and dampening 0
     * @return this builder
     */
    public Builder optNesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    /**
     * Builds the optimizer.
     *
     * @return the optimizer
     * @throws IllegalArgumentException if Nesterov is asked for without momentum or with dampening
     */
    public ResumableSgd build() {
      if (nesterov && (momentum == 0f || dampening != 0f)) {
        throw new IllegalArgumentException(
            "nesterov needs momentum > 0 and dampening 0, got momentum="
                + momentum
                + ", dampening="
                + dampening);
      }
      return new ResumableSgd(this);
    }
  }
}
