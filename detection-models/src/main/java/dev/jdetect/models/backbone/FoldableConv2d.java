package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A 2-D convolution ({@code nn.Conv2d}) that can run with the {@link FrozenBatchNorm2d} after it
 * folded into its weights, for inference. Its parameters stay as loaded: the folded weight and bias
 * are separate arrays, used only outside training and autograd recording, so saving and training
 * see torchvision's values. {@link FrozenBatchNormFolding} folds and unfolds.
 */
public final class FoldableConv2d extends Conv2d {

  /** The weight scaled per output channel and the bias that replaces the norm, in one pair. */
  private record Folded(NDArray weight, NDArray bias) {}

  private volatile Folded folded;

  private FoldableConv2d(Builder builder) {
    super(builder);
  }

  /**
   * Returns a builder with {@link Conv2d}'s settings.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns whether a norm is folded into this convolution.
   *
   * @return {@code true} between {@link FrozenBatchNormFolding#fold} and {@code unfold}
   */
  public boolean isFolded() {
    return folded != null;
  }

  /** Uses these arrays (owned from now on) in inference instead of the parameters. */
  void fold(NDArray weight, NDArray bias) {
    Folded previous = folded;
    folded = new Folded(weight, bias);
    close(previous);
  }

  /** Goes back to the parameters and frees the folded arrays. */
  void unfold() {
    Folded previous = folded;
    folded = null;
    close(previous);
  }

  private static void close(Folded f) {
    if (f != null) {
      f.weight().close();
      f.bias().close();
    }
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    Folded f = folded;
    if (f == null || !FrozenBatchNormFolding.applies(training)) {
      return super.forwardInternal(ps, inputs, training, params);
    }
    NDArray x = inputs.singletonOrThrow();
    if (!x.getDevice().equals(f.weight().getDevice())) {
      throw new IllegalStateException(
          "folded convolution: weights on "
              + f.weight().getDevice()
              + ", input on "
              + x.getDevice()
              + "; fold after moving the model");
    }
    return Conv2d.conv2d(
        x, f.weight(), f.bias(), getStride(), getPadding(), getDilation(), getGroups());
  }

  /** Builder for {@link FoldableConv2d}, with {@link Conv2d.Builder}'s settings. */
  public static final class Builder extends Conv2d.Builder {

    private Builder() {}

    /**
     * Builds the convolution.
     *
     * @return a {@link FoldableConv2d}
     */
    @Override
    public FoldableConv2d build() {
      validate();
      return new FoldableConv2d(this);
    }
  }
}
