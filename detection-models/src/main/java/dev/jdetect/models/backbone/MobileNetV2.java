package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;

/**
 * MobileNetV2 laid out as torchvision's {@code mobilenet_v2().features}: one child {@code features}
 * with a stride-2 3x3 {@code Conv2dNormActivation} stem at position 0, the {@link InvertedResidual}
 * blocks at 1..17 and a 1x1 {@code Conv2dNormActivation} to {@code lastChannel} (1280) at the end;
 * ReLU6 throughout. Output: one map of {@code lastChannel} channels at stride 32.
 *
 * <p>Width multiplier, rounding, block setting and last channel follow torchvision's constructor
 * ({@code _make_divisible} rounding). The classifier is not built.
 */
public final class MobileNetV2 extends AbstractBlock implements Backbone {

  /** torchvision's default block setting: expansion t, channels c, repeats n, stride s. */
  private static final int[][] DEFAULT_SETTING = {
    {1, 16, 1, 1},
    {6, 24, 2, 2},
    {6, 32, 3, 2},
    {6, 64, 4, 2},
    {6, 96, 3, 1},
    {6, 160, 3, 2},
    {6, 320, 1, 1}
  };

  private final SequentialBlock features;
  private final int lastChannel;
  private final int stride;

  private MobileNetV2(Builder b) {
    ConvolutionCheck.ensureCorrect();
    int input = makeDivisible(32 * b.widthMult, b.roundNearest);
    lastChannel =
        b.lastChannel > 0
            ? b.lastChannel
            : makeDivisible(1280 * Math.max(1f, b.widthMult), b.roundNearest);
    SequentialBlock seq = new SequentialBlock();
    seq.add(
        ConvBlocks.convNormActivation(input, 3, 2, 1, ConvBlocks.Act.RELU6, b.bnEps, b.bnMomentum));
    int s = 2;
    for (int[] row : b.setting) {
      int out = makeDivisible(row[1] * b.widthMult, b.roundNearest);
      for (int i = 0; i < row[2]; i++) {
        int st = i == 0 ? row[3] : 1;
        seq.add(new InvertedResidual(input, out, st, row[0], b.bnEps, b.bnMomentum));
        s *= st;
        input = out;
      }
    }
    seq.add(
        ConvBlocks.convNormActivation(
            lastChannel, 1, 1, 1, ConvBlocks.Act.RELU6, b.bnEps, b.bnMomentum));
    stride = s;
    features = addChildBlock("features", seq);
    Backbones.freezeLeading(features, b.frozenModules);
  }

  /**
   * torchvision's {@code _make_divisible}: rounds {@code v} to the nearest multiple of {@code
   * divisor} (at least {@code divisor}), not going below 90% of {@code v}.
   *
   * @param v the value
   * @param divisor the divisor
   * @return the rounded value
   */
  public static int makeDivisible(float v, int divisor) {
    int n = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
    if (n < 0.9 * v) {
      n += divisor;
    }
    return n;
  }

  /**
   * Returns a builder with torchvision's defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the {@code features} sequential block (stem, inverted residuals, last conv).
   *
   * @return the features block
   */
  public SequentialBlock getFeatures() {
    return features;
  }

  @Override
  public int[] outChannels() {
    return new int[] {lastChannel};
  }

  @Override
  public int[] strides() {
    return new int[] {stride};
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    Backbones.checkImages(inputs, "images");
    return SequentialForward.releasing(features, ps, inputs, training, params);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return features.getOutputShapes(inputShapes);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    features.initialize(manager, dataType, inputShapes);
  }

  /** Builder for {@link MobileNetV2}. */
  public static final class Builder {
    private int frozenModules;
    private float widthMult = 1f;
    private int roundNearest = 8;
    private int[][] setting = DEFAULT_SETTING;
    private int lastChannel = -1;
    private float bnEps = 1e-5f;
    private float bnMomentum = 0.1f;

    private Builder() {}

    /**
     * Sets the width multiplier (default 1).
     *
     * @param widthMult the multiplier, &gt; 0
     * @return this builder
     */
    public Builder optWidthMult(float widthMult) {
      if (!(widthMult > 0)) {
        throw new IllegalArgumentException("widthMult must be > 0, got " + widthMult);
      }
      this.widthMult = widthMult;
      return this;
    }

    /**
     * Sets the channel rounding (default 8; 1 turns rounding off).
     *
     * @param roundNearest the divisor channel counts are rounded to
     * @return this builder
     */
    public Builder optRoundNearest(int roundNearest) {
      if (roundNearest < 1) {
        throw new IllegalArgumentException("roundNearest must be >= 1, got " + roundNearest);
      }
      this.roundNearest = roundNearest;
      return this;
    }

    /**
     * Sets the inverted residual setting, rows of {t, c, n, s} (default torchvision's).
     *
     * @param setting the rows
     * @return this builder
     */
    public Builder optInvertedResidualSetting(int[][] setting) {
      if (setting == null || setting.length == 0) {
        throw new IllegalArgumentException("setting must be non-empty");
      }
      for (int[] row : setting) {
        if (row == null || row.length != 4) {
          throw new IllegalArgumentException("setting rows must have 4 elements {t, c, n, s}");
        }
      }
      this.setting = setting.clone();
      return this;
    }

    /**
     * Overrides the channel count of the last 1x1 convolution (default torchvision's {@code
     * make_divisible(1280 * max(1, widthMult))}).
     *
     * @param lastChannel the channel count, &gt; 0
     * @return this builder
     */
    public Builder optLastChannel(int lastChannel) {
      if (lastChannel <= 0) {
        throw new IllegalArgumentException("lastChannel must be > 0, got " + lastChannel);
      }
      this.lastChannel = lastChannel;
      return this;
    }

    /**
     * Sets the batch-norm epsilon and momentum (torchvision counting; default 1e-5, 0.1).
     *
     * @param eps the epsilon
     * @param torchMomentum the momentum as torchvision counts it
     * @return this builder
     */
    public Builder optBatchNorm(float eps, float torchMomentum) {
      this.bnEps = eps;
      this.bnMomentum = torchMomentum;
      return this;
    }

    /**
     * Freezes the parameters of the first {@code numModules} modules of {@code features} (default
     * 0; e.g. 10 for VGG16 freezes conv1 and conv2 as the original Faster R-CNN does).
     *
     * @param numModules how many leading {@code features} modules to freeze, &gt;= 0
     * @return this builder
     */
    public Builder optFrozenModules(int numModules) {
      if (numModules < 0) {
        throw new IllegalArgumentException("numModules must be >= 0, got " + numModules);
      }
      this.frozenModules = numModules;
      return this;
    }

    /**
     * Builds the backbone.
     *
     * @return the backbone block
     */
    public MobileNetV2 build() {
      return new MobileNetV2(this);
    }
  }
}
