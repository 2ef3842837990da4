package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import java.util.Arrays;

/**
 * The region proposal head: a shared 3x3 convolution + ReLU, then a 1x1 convolution with the
 * objectness logits and a 1x1 convolution with the box deltas of every anchor, applied to each
 * feature level (torchvision's {@code RPNHead}).
 *
 * <p>Children are named after torchvision's attributes: {@code conv} (a sequence of conv + ReLU
 * pairs, so the first convolution is {@code conv.0.0}), {@code cls_logits} and {@code bbox_pred}.
 * Weights start as N(0, 0.01), biases as 0.
 *
 * <p>With {@link Builder#optLogitsPerAnchor(int) two logits per anchor} (the paper's 2-way softmax
 * objectness), {@code cls_logits} has {@code 2A} channels laid out as {@code A} background logits
 * followed by {@code A} object logits.
 *
 * <p>Forward: one {@code (N, C, H_l, W_l)} map per level in; out the objectness maps {@code (N,
 * A*k, H_l, W_l)} of all levels followed by the delta maps {@code (N, 4A, H_l, W_l)} of all levels.
 */
public final class RpnHead extends AbstractBlock {

  private static final byte VERSION = 1;

  private final int numAnchors;
  private final int logitsPerAnchor;
  private final SequentialBlock conv;
  private final Conv2d clsLogits;
  private final Conv2d bboxPred;

  private RpnHead(Builder builder) {
    super(VERSION);
    this.numAnchors = builder.numAnchors;
    this.logitsPerAnchor = builder.logitsPerAnchor;
    SequentialBlock convs = new SequentialBlock();
    for (int i = 0; i < builder.convDepth; i++) {
      SequentialBlock convAct = new SequentialBlock();
      convAct.add(conv2d(builder.inChannels, 3, 1));
      convAct.add(Activation.reluBlock());
      convs.add(convAct);
    }
    this.conv = addChildBlock("conv", convs);
    this.clsLogits = addChildBlock("cls_logits", conv2d(numAnchors * logitsPerAnchor, 1, 0));
    this.bboxPred = addChildBlock("bbox_pred", conv2d(numAnchors * 4, 1, 0));
    setInitializer(new NormalInitializer(0.01f), Parameter.Type.WEIGHT);
  }

  private static Conv2d conv2d(int filters, int kernel, int pad) {
    return Conv2d.builder()
        .setFilters(filters)
        .setKernelShape(new Shape(kernel, kernel))
        .optPadding(new Shape(pad, pad))
        .build();
  }

  /**
   * Returns a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the given head after checking that it fits the anchors, or a new one built for them.
   * The head is shared by all levels, so every level needs the same number of anchors per location.
   *
   * @param given the head, or {@code null} to build one
   * @param inChannels the feature channels a new head reads
   * @param anchorsPerLocation the anchors per location of every level
   * @param logitsPerAnchor 1 for sigmoid objectness, 2 for softmax
   * @return a head that fits
   * @throws IllegalArgumentException if the levels differ, or the given head does not fit
   */
  static RpnHead fitting(
      RpnHead given, int inChannels, int[] anchorsPerLocation, int logitsPerAnchor) {
    int anchors = anchorsPerLocation[0];
    for (int a : anchorsPerLocation) {
      if (a != anchors) {
        throw new IllegalArgumentException(
            "the RPN head is shared by all levels, so every level needs the same number of anchors"
                + " per location; got "
                + Arrays.toString(anchorsPerLocation));
      }
    }
    if (given == null) {
      if (inChannels < 1) {
        throw new IllegalArgumentException(
            "set either the head or inChannels (the feature channel count), got " + inChannels);
      }
      return builder()
          .setInChannels(inChannels)
          .setNumAnchors(anchors)
          .optLogitsPerAnchor(logitsPerAnchor)
          .build();
    }
    if (given.getNumAnchors() != anchors || given.getLogitsPerAnchor() != logitsPerAnchor) {
      throw new IllegalArgumentException(
          "head predicts "
              + given.getNumAnchors()
              + " anchors x "
              + given.getLogitsPerAnchor()
              + " logits but the anchor generator has "
              + anchors
              + " anchors per location and the objectness form needs "
              + logitsPerAnchor);
    }
    return given;
  }

  /**
   * Returns the number of anchors per feature-map location.
   *
   * @return {@code A}
   */
  public int getNumAnchors() {
    return numAnchors;
  }

  /**
   * Returns the number of objectness logits per anchor: 1 (sigmoid) or 2 (softmax).
   *
   * @return 1 or 2
   */
  public int getLogitsPerAnchor() {
    return logitsPerAnchor;
  }

  /**
   * The head's outputs for every anchor of a batch, levels concatenated in the anchor generator's
   * order (location by location, the anchors of a location in a row).
   *
   * @param logits {@code (N, T)} objectness logits, or {@code (N, T, 2)} (background, object) with
   *     two logits per anchor
   * @param deltas {@code (N, T, 4)} box deltas
   * @param anchorsPerLevel the number of anchors of each level, summing to {@code T}
   */
  public record AnchorPredictions(NDArray logits, NDArray deltas, int[] anchorsPerLevel) {}

  /**
   * Runs the head and lays its outputs out with one row per anchor (torchvision's {@code
   * concat_box_prediction_layers}).
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param training whether this is a training pass
   * @return the logits and deltas of every anchor
   */
  public AnchorPredictions predictAnchors(
      ParameterStore parameterStore, NDList features, boolean training) {
    NDList out = forward(parameterStore, features, training);
    int levels = features.size();
    long numImages = features.get(0).getShape().get(0);
    int[] perLevel = new int[levels];
    NDList logitList = new NDList(levels);
    NDList deltaList = new NDList(levels);
    for (int l = 0; l < levels; l++) {
      NDArray logits = out.get(l);
      NDArray deltas = out.get(l + levels);
      long h = logits.getShape().get(2);
      long w = logits.getShape().get(3);
      perLevel[l] = (int) (h * w * numAnchors);
      if (logitsPerAnchor == 2) {
        // channels: A background logits then A object logits
        logitList.add(
            logits
                .reshape(numImages, 2, numAnchors, h, w)
                .transpose(0, 3, 4, 2, 1)
                .reshape(numImages, -1, 2));
      } else {
        logitList.add(logits.transpose(0, 2, 3, 1).reshape(numImages, -1));
      }
      deltaList.add(
          deltas
              .reshape(numImages, numAnchors, 4, h, w)
              .transpose(0, 3, 4, 1, 2)
              .reshape(numImages, -1, 4));
    }
    NDArray logits = levels == 1 ? logitList.get(0) : NDArrays.concat(logitList, 1);
    NDArray deltas = levels == 1 ? deltaList.get(0) : NDArrays.concat(deltaList, 1);
    return new AnchorPredictions(logits, deltas, perLevel);
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList logits = new NDList(inputs.size());
    NDList deltas = new NDList(inputs.size());
    for (NDArray feature : inputs) {
      NDList t = conv.forward(parameterStore, new NDList(feature), training);
      logits.add(clsLogits.forward(parameterStore, t, training).singletonOrThrow());
      deltas.add(bboxPred.forward(parameterStore, t, training).singletonOrThrow());
    }
    logits.addAll(deltas);
    return logits;
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[inputShapes.length * 2];
    for (int i = 0; i < inputShapes.length; i++) {
      Shape s = inputShapes[i];
      out[i] = new Shape(s.get(0), (long) numAnchors * logitsPerAnchor, s.get(2), s.get(3));
      out[i + inputShapes.length] = new Shape(s.get(0), numAnchors * 4L, s.get(2), s.get(3));
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape first = inputShapes[0];
    conv.initialize(manager, dataType, first);
    clsLogits.initialize(manager, dataType, first);
    bboxPred.initialize(manager, dataType, first);
  }

  /** A builder of {@link RpnHead}. */
  public static final class Builder {

    private int inChannels = -1;
    private int numAnchors = -1;
    private int logitsPerAnchor = 1;
    private int convDepth = 1;

    private Builder() {}

    /**
     * Sets the channel count of the feature maps (the 3x3 convolution keeps it).
     *
     * @param inChannels channels, required
     * @return this builder
     */
    public Builder setInChannels(int inChannels) {
      this.inChannels = inChannels;
      return this;
    }

    /**
     * Sets the number of anchors per location.
     *
     * @param numAnchors anchors, required
     * @return this builder
     */
    public Builder setNumAnchors(int numAnchors) {
      this.numAnchors = numAnchors;
      return this;
    }

    /**
     * Sets the objectness logits per anchor: 1 for torchvision's sigmoid, 2 for the paper's
     * softmax.
     *
     * @param logitsPerAnchor 1 (default) or 2
     * @return this builder
     */
    public Builder optLogitsPerAnchor(int logitsPerAnchor) {
      this.logitsPerAnchor = logitsPerAnchor;
      return this;
    }

    /**
     * Sets the number of shared 3x3 conv + ReLU layers.
     *
     * @param convDepth layers, default 1
     * @return this builder
     */
    public Builder optConvDepth(int convDepth) {
      this.convDepth = convDepth;
      return this;
    }

    /**
     * Builds the head.
     *
     * @return the head
     * @throws IllegalArgumentException on missing or invalid settings
     */
    public RpnHead build() {
      if (inChannels < 1 || numAnchors < 1 || convDepth < 1) {
        throw new IllegalArgumentException(
            "inChannels ("
                + inChannels
                + "), numAnchors ("
                + numAnchors
                + ") and convDepth ("
                + convDepth
                + ") must be >= 1");
      }
      if (logitsPerAnchor != 1 && logitsPerAnchor != 2) {
        throw new IllegalArgumentException(
            "logitsPerAnchor must be 1 or 2, got " + logitsPerAnchor);
      }
      return new RpnHead(this);
    }
  }
}
