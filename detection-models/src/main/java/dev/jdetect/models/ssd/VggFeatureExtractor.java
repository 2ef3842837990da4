package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.backbone.SequentialForward;
import dev.jdetect.models.weights.TorchvisionAliases;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The VGG16 feature extractor of SSD300/SSD512 (Liu et al.), laid out like torchvision's {@code
 * SSDFeatureExtractorVGG} so its {@code state_dict} maps 1:1 (names {@code features.*}, {@code
 * scale_weight}, {@code extra.*}).
 *
 * <ul>
 *   <li>{@code features}: VGG16 {@code conv1_1 .. conv4_3} with ReLUs, pool3 in ceil mode (38x38 at
 *       300);
 *   <li>source 0: {@link L2Norm} of conv4_3 (scale initialised to 20);
 *   <li>{@code extra.0}: pool4, {@code conv5_1 .. conv5_3}, then pool5 (3x3, stride 1, padding 1),
 *       fc6 (3x3, dilation 6) and fc7 (1x1) with ReLUs; source 1;
 *   <li>{@code extra.1 ..}: a 1x1 convolution then a strided or valid convolution, each a source.
 * </ul>
 *
 * <p>Widths are configurable (the defaults are VGG16's).
 *
 * <p>Fresh weights follow torchvision: the VGG convolutions ({@code features} and conv5_x) are
 * Kaiming-normal with fan-out (as {@code vgg16()}), fc6/fc7 and the extra stages Xavier-uniform (as
 * {@code SSDFeatureExtractorVGG}), biases zero.
 */
public class VggFeatureExtractor extends AbstractBlock implements Backbone, TorchvisionAliases {

  private final SequentialBlock features;
  private final L2Norm l2norm;
  private final ModuleList extra;
  private final int[] outChannels;
  private final int[] strides;

  // DJL's default (Kaiming with fan-in on every convolution) keeps SSD's 0-255 input scale through
  // all sources: the logits of a fresh model reach the thousands and the first SGD steps diverge.

  /** torchvision's {@code kaiming_normal_(mode="fan_out", nonlinearity="relu")}. */
  static final Initializer KAIMING_FAN_OUT =
      new XavierInitializer(
          XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.OUT, 2f);

  /** torchvision's {@code xavier_uniform_} (gain 1). */
  static final Initializer XAVIER_UNIFORM =
      new XavierInitializer(
          XavierInitializer.RandomType.UNIFORM, XavierInitializer.FactorType.AVG, 3f);

  private VggFeatureExtractor(Builder b) {
    int[] w = b.widths;
    int[] convsPerStage = {2, 2, 3, 3, 3};
    SequentialBlock feat = new SequentialBlock();
    int stage = 0;
    for (; stage < 4; stage++) {
      if (stage > 0) {
        feat.add(
            Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), stage == 3));
      }
      for (int c = 0; c < convsPerStage[stage]; c++) {
        feat.add(conv(w[stage], 3, 1, 1, 1, KAIMING_FAN_OUT));
        feat.add(Activation.reluBlock());
      }
    }
    this.features = addChildBlock("features", feat);
    this.l2norm = addChildBlock("l2norm", L2Norm.builder().setChannels(w[3]).build());

    SequentialBlock fc = new SequentialBlock();
    fc.add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(1, 1), new Shape(1, 1), false));
    fc.add(conv(b.fcChannels, 3, 1, 6, 6, XAVIER_UNIFORM));
    fc.add(Activation.reluBlock());
    fc.add(conv(b.fcChannels, 1, 1, 0, 1, XAVIER_UNIFORM));
    fc.add(Activation.reluBlock());
    SequentialBlock extra0 = new SequentialBlock();
    extra0.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false));
    for (int c = 0; c < convsPerStage[4]; c++) {
      extra0.add(conv(w[4], 3, 1, 1, 1, KAIMING_FAN_OUT));
      extra0.add(Activation.reluBlock());
    }
    extra0.add(fc);
    List<Block> extras = new ArrayList<>();
    extras.add(extra0);
    List<Integer> channels = new ArrayList<>(List.of(w[3], b.fcChannels));
    for (ExtraLayer e : b.extras) {
      SequentialBlock s = new SequentialBlock();
      s.add(conv(e.midChannels, 1, 1, 0, 1, XAVIER_UNIFORM));
      s.add(Activation.reluBlock());
      s.add(conv(e.outChannels, e.kernel, e.stride, e.padding, 1, XAVIER_UNIFORM));
      s.add(Activation.reluBlock());
      extras.add(s);
      channels.add(e.outChannels);
    }
    this.extra = addChildBlock("extra", new ModuleList(extras));
    this.outChannels = channels.stream().mapToInt(Integer::intValue).toArray();
    this.strides = b.strides != null ? b.strides.clone() : defaultStrides(b.extras);
  }

  private static int[] defaultStrides(List<ExtraLayer> extras) {
    int[] s = new int[extras.size() + 2];
    s[0] = 8;
    s[1] = 16;
    int stride = 16;
    for (int i = 0; i < extras.size(); i++) {
      stride *= extras.get(i).stride == 1 ? 1 : extras.get(i).stride;
      s[i + 2] = stride;
    }
    return s;
  }

  private static Conv2d conv(
      int filters, int kernel, int stride, int padding, int dilation, Initializer init) {
    Conv2d conv =
        Conv2d.builder()
            .setFilters(filters)
            .setKernelShape(new Shape(kernel, kernel))
            .optStride(new Shape(stride, stride))
            .optPadding(new Shape(padding, padding))
            .optDilation(new Shape(dilation, dilation))
            .build();
    conv.setInitializer(init, Parameter.Type.WEIGHT);
    return conv;
  }

  /**
   * Creates a builder with the VGG16 widths and the SSD300 extras.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the SSD300 extractor: 6 sources of 512, 1024, 512, 256, 256, 256 channels (38, 19, 10,
   * 5, 3, 1 at 300x300).
   *
   * @return the extractor
   */
  public static VggFeatureExtractor ssd300() {
    return builder().build();
  }

  /**
   * Returns the SSD512 extractor: 7 sources of 512, 1024, 512, 256, 256, 256, 256 channels (64, 32,
   * 16, 8, 4, 2, 1 at 512x512); conv10_2 and conv11_2 are 3x3 stride 2 and conv12_2 is 4x4 with
   * padding 1, as in the original SSD512.
   *
   * @return the extractor
   */
  public static VggFeatureExtractor ssd512() {
    return builder()
        .optExtras(
            List.of(
                ExtraLayer.of(256, 512, 3, 2, 1),
                ExtraLayer.of(128, 256, 3, 2, 1),
                ExtraLayer.of(128, 256, 3, 2, 1),
                ExtraLayer.of(128, 256, 3, 2, 1),
                ExtraLayer.of(128, 256, 4, 1, 1)))
        .optStrides(8, 16, 32, 64, 128, 256, 512)
        .build();
  }

  /** {@inheritDoc} */
  @Override
  public int[] outChannels() {
    return outChannels.clone();
  }

  /** {@inheritDoc} */
  @Override
  public int[] strides() {
    return strides.clone();
  }

  /** {@inheritDoc} */
  @Override
  public Map<String, String> torchvisionAliases() {
    return Map.of("l2norm.weight", "scale_weight");
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
    if (s.dimension() != 4 || s.get(1) != 3) {
      throw new IllegalArgumentException("images must be (N, 3, H, W), got " + s);
    }
    // every stage's output is a source, kept; inside a stage, intermediates go at once (at
    // 300x300 VGG's early maps are tens of MB each)
    NDList current =
        SequentialForward.releasing(features, parameterStore, new NDList(x), training, params);
    NDList out = new NDList(outChannels.length);
    out.add(l2norm.forward(parameterStore, current, training, params).get(0));
    for (int i = 0; i < extra.size(); i++) {
      current = SequentialForward.run(extra.get(i), parameterStore, current, training, params);
      out.add(current.get(0));
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[outChannels.length];
    Shape[] current = features.getOutputShapes(inputShapes);
    out[0] = current[0];
    for (int i = 0; i < extra.size(); i++) {
      current = extra.get(i).getOutputShapes(current);
      out[i + 1] = current[0];
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    features.initialize(manager, dataType, inputShapes);
    Shape[] current = features.getOutputShapes(inputShapes);
    l2norm.initialize(manager, dataType, current);
    Shape[] perExtra = new Shape[extra.size()];
    for (int i = 0; i < extra.size(); i++) {
      perExtra[i] = current[0];
      current = extra.get(i).getOutputShapes(current);
    }
    extra.initialize(manager, dataType, perExtra);
  }

  /** One extra stage: a 1x1 convolution to {@code mid} channels, then a {@code k x k} one. */
  public static final class ExtraLayer {
    final int midChannels;
    final int outChannels;
    final int kernel;
    final int stride;
    final int padding;

    private ExtraLayer(int midChannels, int outChannels, int kernel, int stride, int padding) {
      this.midChannels = midChannels;
      this.outChannels = outChannels;
      this.kernel = kernel;
      this.stride = stride;
      this.padding = padding;
    }

    /**
     * Describes an extra stage.
     *
     * @param midChannels channels of the 1x1 convolution
     * @param outChannels channels of the second convolution (the source)
     * @param kernel kernel size of the second convolution
     * @param stride its stride
     * @param padding its padding
     * @return the stage
     * @throws IllegalArgumentException if a size is not positive or padding is negative
     */
    public static ExtraLayer of(
        int midChannels, int outChannels, int kernel, int stride, int padding) {
      if (midChannels <= 0 || outChannels <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
        throw new IllegalArgumentException(
            "extra layer needs positive channels, kernel, stride and padding >= 0, got mid "
                + midChannels
                + ", out "
                + outChannels
                + ", kernel "
                + kernel
                + ", stride "
                + stride
                + ", padding "
                + padding);
      }
      return new ExtraLayer(midChannels, outChannels, kernel, stride, padding);
    }
  }

  /** Builder for {@link VggFeatureExtractor}. */
  public static final class Builder {
    private int[] widths = {64, 128, 256, 512, 512};
    private int fcChannels = 1024;
    private List<ExtraLayer> extras =
        List.of(
            ExtraLayer.of(256, 512, 3, 2, 1),
            ExtraLayer.of(128, 256, 3, 2, 1),
            ExtraLayer.of(128, 256, 3, 1, 0),
            ExtraLayer.of(128, 256, 3, 1, 0));
    private int[] strides = {8, 16, 32, 64, 100, 300};

    private Builder() {}

    /**
     * Sets the channels of the five VGG stages (default 64, 128, 256, 512, 512).
     *
     * @param widths five positive widths
     * @return this builder
     */
    public Builder optWidths(int... widths) {
      this.widths = widths.clone();
      return this;
    }

    /**
     * Sets the channels of fc6 and fc7 (default 1024).
     *
     * @param fcChannels the width
     * @return this builder
     */
    public Builder optFcChannels(int fcChannels) {
      this.fcChannels = fcChannels;
      return this;
    }

    /**
     * Sets the extra stages after fc7 (default SSD300's conv8_2 .. conv11_2). Also resets the
     * nominal strides to doubling per strided stage unless {@link #optStrides} follows.
     *
     * @param extras the stages, in order
     * @return this builder
     */
    public Builder optExtras(List<ExtraLayer> extras) {
      this.extras = List.copyOf(extras);
      this.strides = null;
      return this;
    }

    /**
     * Sets the nominal stride of each source (default SSD300's 8, 16, 32, 64, 100, 300).
     *
     * @param strides one per source ({@code 2 + extras})
     * @return this builder
     */
    public Builder optStrides(int... strides) {
      this.strides = strides.clone();
      return this;
    }

    /**
     * Builds the extractor.
     *
     * @return the extractor
     * @throws IllegalArgumentException if the widths, fc channels or strides are invalid
     */
    public VggFeatureExtractor build() {
      if (widths.length != 5) {
        throw new IllegalArgumentException("widths must hold 5 values, got " + widths.length);
      }
      for (int w : widths) {
        if (w <= 0) {
          throw new IllegalArgumentException("widths must be > 0, got " + w);
        }
      }
      if (fcChannels <= 0) {
        throw new IllegalArgumentException("fcChannels must be > 0, got " + fcChannels);
      }
      if (strides != null && strides.length != extras.size() + 2) {
        throw new IllegalArgumentException(
            "strides must hold " + (extras.size() + 2) + " values, got " + strides.length);
      }
      return new VggFeatureExtractor(this);
    }
  }
}
