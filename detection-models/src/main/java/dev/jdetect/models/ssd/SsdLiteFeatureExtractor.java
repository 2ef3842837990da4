package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.backbone.InvertedResidual;
import dev.jdetect.models.backbone.MobileNetV2;
import dev.jdetect.models.backbone.MobileNetV3;
import dev.jdetect.models.backbone.MobileNetV3Block;
import dev.jdetect.models.backbone.SequentialForward;
import java.util.ArrayList;
import java.util.List;

/**
 * The SSDlite feature extractor on MobileNetV2 or MobileNetV3: torchvision's {@code
 * SSDLiteFeatureExtractorMobileNet} (MobileNetV2 paper, section 6.2).
 *
 * <p>Six sources: (0) the expansion layer of the last stride-2 inverted residual ("C4", stride 16,
 * 576 channels at full width), (1) the end of the network (stride 32, 1280 channels), then four
 * extra blocks, each a 1x1 {@code Conv2dNormActivation} to half the output channels, a stride-2 3x3
 * depthwise one and a 1x1 one to the output channels (ReLU6 throughout; depths {@code max(minDepth,
 * d * widthMult)} of 512, 256, 256, 128). At 320x320 the maps are 20, 10, 5, 3, 2, 1.
 *
 * <p>Names follow torchvision: {@code features.0} holds the MobileNet's {@code features[0 .. c4-1]}
 * and, at position {@code c4}, the C4 block's expansion layer; {@code features.1.0} holds the rest
 * of the C4 block at its torchvision positions 1..3 (position 0 is an empty identity placeholder)
 * and {@code features.1.1...} the later blocks; {@code extra.0 .. extra.3}.
 */
public final class SsdLiteFeatureExtractor extends AbstractBlock implements Backbone {

  private final SequentialBlock stage0;
  private final SequentialBlock stage1;
  private final ModuleList extra;
  private final int[] outChannels;
  private final int[] strides;

  /**
   * Where a MobileNet is split: its feature blocks in order, the C4 block's index and its layers
   * (expansion first), the stride before the C4 block and the last block's channels.
   */
  private record Split(
      List<Block> blocks, int c4, SequentialBlock c4Layers, int stride, int lastChannels) {}

  private SsdLiteFeatureExtractor(Builder b) {
    Split at = b.mobileNet != null ? split(b.mobileNet) : split(b.mobileNetV3);
    List<Block> blocks = at.blocks();
    int c4 = at.c4();
    int stride = at.stride();
    List<Block> parts = new ArrayList<>();
    for (Pair<String, Block> p : at.c4Layers().getChildren()) {
      parts.add(p.getValue());
    }
    if (parts.size() != 4) {
      throw new IllegalArgumentException(
          "mobileNet: the C4 block (features." + c4 + ") has no expansion layer");
    }
    stage0 = new SequentialBlock();
    for (int i = 0; i < c4; i++) {
      stage0.add(blocks.get(i));
    }
    stage0.add(parts.get(0));
    SequentialBlock rest = new SequentialBlock();
    rest.add(new LambdaBlock(x -> x, "identity"));
    rest.add(parts.get(1));
    rest.add(parts.get(2));
    rest.add(parts.get(3));
    stage1 = new SequentialBlock();
    stage1.add(rest);
    for (int i = c4 + 1; i < blocks.size(); i++) {
      stage1.add(blocks.get(i));
    }
    SequentialBlock features = new SequentialBlock();
    features.add(stage0);
    features.add(stage1);
    addChildBlock("features", features);

    int last = at.lastChannels();
    int[] depths = {512, 256, 256, 128};
    List<Block> extras = new ArrayList<>();
    int in = last;
    for (int d : depths) {
      int out = Math.max(b.minDepth, (int) (d * b.widthMult));
      SequentialBlock blk = new SequentialBlock();
      blk.add(
          ConvBlocks.convNormActivation(
              out / 2, 1, 1, 1, ConvBlocks.Act.RELU6, b.bnEps, b.bnMomentum));
      blk.add(
          ConvBlocks.convNormActivation(
              out / 2, 3, 2, out / 2, ConvBlocks.Act.RELU6, b.bnEps, b.bnMomentum));
      blk.add(
          ConvBlocks.convNormActivation(out, 1, 1, 1, ConvBlocks.Act.RELU6, b.bnEps, b.bnMomentum));
      blk.setInitializer(new NormalInitializer(0.03f), Parameter.Type.WEIGHT);
      extras.add(blk);
      in = out;
    }
    extra = addChildBlock("extra", new ModuleList(extras));
    outChannels = new int[6];
    strides = new int[6];
    outChannels[0] = splitChannels(at.c4Layers());
    strides[0] = stride;
    outChannels[1] = last;
    strides[1] = stride * 2;
    for (int i = 0; i < 4; i++) {
      outChannels[2 + i] = Math.max(b.minDepth, (int) (depths[i] * b.widthMult));
      strides[2 + i] = strides[1 + i] * 2;
    }
    if (in != outChannels[5]) {
      throw new IllegalStateException("extra channel bookkeeping");
    }
  }

  /** torchvision's {@code c4_pos} for MobileNetV2: the last stride-2 inverted residual. */
  private static Split split(MobileNetV2 net) {
    List<Block> blocks = new ArrayList<>();
    for (Pair<String, Block> p : net.getFeatures().getChildren()) {
      blocks.add(p.getValue());
    }
    int c4 = -1;
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i) instanceof InvertedResidual
          && ((InvertedResidual) blocks.get(i)).getStride() == 2) {
        c4 = i;
      }
    }
    if (c4 < 0) {
      throw new IllegalArgumentException("mobileNet: no stride-2 inverted residual to split at");
    }
    int stride = 2;
    for (int i = 1; i < c4; i++) {
      if (blocks.get(i) instanceof InvertedResidual) {
        stride *= ((InvertedResidual) blocks.get(i)).getStride();
      }
    }
    InvertedResidual split = (InvertedResidual) blocks.get(c4);
    return new Split(blocks, c4, split.getConv(), stride, net.outChannels()[0]);
  }

  /**
   * torchvision's {@code c4_pos} for MobileNetV3 ({@code _mobilenet_extractor}): the start of the
   * last stage, the last block whose table stride is 2.
   */
  private static Split split(MobileNetV3 net) {
    List<Block> blocks = new ArrayList<>();
    for (Pair<String, Block> p : net.getChildren()) {
      blocks.add(p.getValue());
    }
    List<MobileNetV3.Stage> stages = net.stages();
    int c4 = -1;
    int stride = 2;
    for (int i = 1; i <= stages.size(); i++) {
      if (stages.get(i - 1).stride() > 1) {
        c4 = i;
      }
    }
    if (c4 < 0) {
      throw new IllegalArgumentException("mobileNet: no stride-2 block to split at");
    }
    for (int i = 1; i < c4; i++) {
      MobileNetV3.Stage s = stages.get(i - 1);
      stride *= s.dilation() > 1 ? 1 : s.stride();
    }
    MobileNetV3Block split = (MobileNetV3Block) blocks.get(c4);
    if (split.usesResidual()) {
      throw new IllegalArgumentException("mobileNet: the C4 block has a residual connection");
    }
    int last = 6 * stages.get(stages.size() - 1).outChannels();
    return new Split(blocks, c4, split.getBlock(), stride, last);
  }

  private static int splitChannels(SequentialBlock c4Layers) {
    // the expansion layer is a Conv2dNormActivation whose conv sits at position 0
    Block expansion = c4Layers.getChildren().get(0).getValue();
    Block conv = ((SequentialBlock) expansion).getChildren().get(0).getValue();
    return ((ai.djl.nn.convolutional.Convolution) conv).getFilters();
  }

  /**
   * Returns a builder; the MobileNetV2 must be set.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public int[] outChannels() {
    return outChannels.clone();
  }

  @Override
  public int[] strides() {
    return strides.clone();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    Shape s = inputs.head().getShape();
    if (s.dimension() != 4 || s.get(1) != 3) {
      throw new IllegalArgumentException("images: expected (N, 3, H, W), got " + s);
    }
    NDList out = new NDList(6);
    // every stage's output is a source, kept; inside a stage, intermediates go at once
    NDArray x = SequentialForward.releasing(stage0, ps, inputs, training, params).head();
    out.add(x);
    x = SequentialForward.releasing(stage1, ps, new NDList(x), training, params).head();
    out.add(x);
    for (int i = 0; i < extra.size(); i++) {
      x = SequentialForward.run(extra.get(i), ps, new NDList(x), training, params).head();
      out.add(x);
    }
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[6];
    Shape[] s = stage0.getOutputShapes(inputShapes);
    out[0] = s[0];
    s = stage1.getOutputShapes(s);
    out[1] = s[0];
    for (int i = 0; i < extra.size(); i++) {
      s = extra.get(i).getOutputShapes(s);
      out[2 + i] = s[0];
    }
    return out;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    stage0.initialize(manager, dataType, inputShapes);
    Shape[] s = stage0.getOutputShapes(inputShapes);
    stage1.initialize(manager, dataType, s);
    s = stage1.getOutputShapes(s);
    for (int i = 0; i < extra.size(); i++) {
      extra.get(i).initialize(manager, dataType, s);
      s = extra.get(i).getOutputShapes(s);
    }
  }

  /** Builder for {@link SsdLiteFeatureExtractor}. */
  public static final class Builder {
    private MobileNetV2 mobileNet;
    private MobileNetV3 mobileNetV3;
    private float widthMult = 1f;
    private int minDepth = 16;
    private float bnEps = 0.001f;
    private float bnMomentum = 0.03f;

    private Builder() {}

    /**
     * Sets the MobileNetV2 to split (required; build it with the same batch-norm settings,
     * torchvision's SSDlite uses eps 0.001, momentum 0.03).
     *
     * @param mobileNet the network, not used elsewhere
     * @return this builder
     */
    public Builder setMobileNet(MobileNetV2 mobileNet) {
      this.mobileNet = mobileNet;
      this.mobileNetV3 = null;
      return this;
    }

    /**
     * Sets a MobileNetV3 to split instead (torchvision's {@code ssdlite320_mobilenet_v3_large}): C4
     * is the expansion layer of the last stage's first block, and the extras start from its last
     * 1x1 convolution. Build it with the extractor's batch-norm settings; its stage freezing is
     * kept.
     *
     * @param mobileNet the network, not used elsewhere
     * @return this builder
     */
    public Builder setMobileNet(MobileNetV3 mobileNet) {
      this.mobileNetV3 = mobileNet;
      this.mobileNet = null;
      return this;
    }

    /**
     * Sets the width multiplier of the extra blocks (default 1).
     *
     * @param widthMult the multiplier
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
     * Sets the minimum depth of the extra blocks (default 16).
     *
     * @param minDepth the minimum channel count
     * @return this builder
     */
    public Builder optMinDepth(int minDepth) {
      if (minDepth < 2) {
        throw new IllegalArgumentException("minDepth must be >= 2, got " + minDepth);
      }
      this.minDepth = minDepth;
      return this;
    }

    /**
     * Sets the batch norm of the extra blocks (default torchvision SSDlite's eps 0.001, momentum
     * 0.03).
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
     * Builds the extractor.
     *
     * @return the extractor
     */
    public SsdLiteFeatureExtractor build() {
      if (mobileNet == null && mobileNetV3 == null) {
        throw new IllegalArgumentException("mobileNet must be set");
      }
      return new SsdLiteFeatureExtractor(this);
    }
  }
}
