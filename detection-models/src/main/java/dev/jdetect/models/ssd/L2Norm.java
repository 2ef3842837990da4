package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.Scalars;

/**
 * Channel-wise L2 normalisation with a learnable per-channel scale (Liu et al., SSD; ParseNet):
 * {@code y = weight[c] * x / max(||x[:, :, h, w]||_2, eps)}, the norm taken over channels at each
 * position, as torchvision's {@code scale_weight.view(1, -1, 1, 1) * F.normalize(x)}.
 *
 * <p>The scale is a parameter named {@code weight} of type {@link Parameter.Type#GAMMA},
 * initialised to {@code 20} (not overwritten by a block-wide weight initialiser).
 */
public class L2Norm extends AbstractBlock {

  private final int channels;
  private final float eps;
  private final Parameter weight;

  private L2Norm(Builder builder) {
    this.channels = builder.channels;
    this.eps = builder.eps;
    this.weight =
        addParameter(
            Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(new Shape(channels))
                .optInitializer(new ConstantInitializer(builder.initScale))
                .build());
  }

  /**
   * Creates a builder (initial scale 20, eps 1e-12 as {@code F.normalize}).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    Shape s = x.getShape();
    if (s.dimension() != 4 || s.get(1) != channels) {
      throw new IllegalArgumentException(
          "L2Norm over "
              + channels
              + " channels needs input (N, "
              + channels
              + ", H, W), got "
              + s);
    }
    NDArray w = parameterStore.getValue(weight, x.getDevice(), training);
    NDArray norm = Scalars.maximum(x.square().sum(new int[] {1}, true).sqrt(), eps);
    return new NDList(x.div(norm).mul(w.reshape(1, channels, 1, 1)));
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  /** Builder for {@link L2Norm}. */
  public static final class Builder {
    private int channels = -1;
    private float initScale = 20f;
    private float eps = 1e-12f;

    private Builder() {}

    /**
     * Sets the number of channels (required).
     *
     * @param channels the channel count, {@code > 0}
     * @return this builder
     */
    public Builder setChannels(int channels) {
      this.channels = channels;
      return this;
    }

    /**
     * Sets the initial scale of every channel (default 20).
     *
     * @param initScale the initial scale
     * @return this builder
     */
    public Builder optInitScale(float initScale) {
      this.initScale = initScale;
      return this;
    }

    /**
     * Sets the lower bound of the norm (default 1e-12).
     *
     * @param eps the bound, {@code >= 0}
     * @return this builder
     */
    public Builder optEps(float eps) {
      this.eps = eps;
      return this;
    }

    /**
     * Builds the block.
     *
     * @return the block
     * @throws IllegalArgumentException if the channel count is not positive or eps is negative
     */
    public L2Norm build() {
      if (channels <= 0) {
        throw new IllegalArgumentException("channels must be > 0, got " + channels);
      }
      if (!(eps >= 0) || !Float.isFinite(initScale)) {
        throw new IllegalArgumentException(
            "eps must be >= 0 and initScale finite, got eps " + eps + ", initScale " + initScale);
      }
      return new L2Norm(this);
    }
  }
}
