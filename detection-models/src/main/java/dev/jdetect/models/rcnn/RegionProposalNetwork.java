package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.models.ImageTargets;
import java.util.ArrayList;
import java.util.List;

/**
 * The region proposal network of Faster R-CNN (torchvision's {@code RegionProposalNetwork}): runs
 * the {@link RpnHead} on every feature level, decodes its deltas against the anchors and lets a
 * {@link ProposalFilter} choose the proposals; in training an {@link RpnLoss} computes the
 * objectness and box losses.
 *
 * <p>Defaults follow torchvision: sigmoid objectness, box coder weights (1, 1, 1, 1), and the
 * defaults of {@link ProposalFilter} and {@link RpnLoss}. {@link #classicBuilder()} gives the
 * configuration of the original paper: 2-way softmax objectness, the classic anchors and the
 * classic filter and loss.
 *
 * <p>The block's only child is {@code head}. Use {@link #propose}; the plain {@code forward} takes
 * the feature maps followed by an int {@code (N, 2)} array of image sizes {@code (h, w)} and an int
 * {@code (2)} array with the padded batch size, and returns proposals and scores per image.
 */
public final class RegionProposalNetwork extends AbstractBlock {

  private static final byte VERSION = 1;

  /** How objectness is scored. */
  public enum Objectness {
    /** One logit per anchor, sigmoid, binary cross-entropy (torchvision). */
    SIGMOID,
    /** Two logits per anchor (background, object), softmax, cross-entropy (the paper). */
    SOFTMAX
  }

  /**
   * The proposals of a batch, and the RPN losses in training.
   *
   * @param proposals one {@code (P_i, 4)} array per image, best first, in resized-image pixels, no
   *     gradient
   * @param scores one {@code (P_i)} array of objectness probabilities per image
   * @param anchors {@code (T, 4)} anchors of one image (the same for every image), levels
   *     concatenated
   * @param objectnessLoss {@code loss_objectness}, or {@code null} outside training
   * @param boxLoss {@code loss_rpn_box_reg}, or {@code null} outside training
   */
  public record Output(
      List<NDArray> proposals,
      List<NDArray> scores,
      NDArray anchors,
      NDArray objectnessLoss,
      NDArray boxLoss) {}

  private final RpnHead head;
  private final AnchorGenerator anchorGenerator;
  private final Objectness objectness;
  private final BoxCoder boxCoder;
  private final ProposalFilter proposalFilter;
  private final RpnLoss loss;

  private RegionProposalNetwork(Builder b) {
    super(VERSION);
    this.anchorGenerator = b.anchorGenerator;
    this.objectness = b.objectness;
    this.head =
        addChildBlock(
            "head",
            RpnHead.fitting(
                b.head,
                b.inChannels,
                b.anchorGenerator.numAnchorsPerLocation(),
                b.objectness == Objectness.SOFTMAX ? 2 : 1));
    this.boxCoder = b.boxCoder;
    this.proposalFilter = b.proposalFilter;
    this.loss = b.loss;
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
   * Returns a builder preset to the original paper's RPN: softmax objectness, the classic anchors
   * (16 x {8, 16, 32} x {0.5, 1, 2}, stride 16), {@link ProposalFilter#classicBuilder()} and {@link
   * RpnLoss#classicBuilder()}.
   *
   * @return a new builder
   */
  public static Builder classicBuilder() {
    return new Builder()
        .optAnchorGenerator(AnchorGenerator.classic())
        .optObjectness(Objectness.SOFTMAX)
        .optProposalFilter(ProposalFilter.classicBuilder().build())
        .optLoss(RpnLoss.classicBuilder().build());
  }

  /**
   * Returns the head.
   *
   * @return the RPN head
   */
  public RpnHead getHead() {
    return head;
  }

  /**
   * Returns the anchor generator.
   *
   * @return the generator
   */
  public AnchorGenerator getAnchorGenerator() {
    return anchorGenerator;
  }

  /**
   * Returns the objectness form.
   *
   * @return sigmoid or softmax
   */
  public Objectness getObjectness() {
    return objectness;
  }

  /**
   * Proposes regions for a batch, and computes the RPN losses when training.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param imageSizes {@code {h, w}} of every image after resizing (clip bounds)
   * @param paddedHeight height of the padded batch (anchor strides are derived from it)
   * @param paddedWidth width of the padded batch
   * @param training whether this is a training pass (top-n settings and losses)
   * @param targets the ground truth of every image in resized pixels; required when training,
   *     ignored otherwise
   * @return the proposals (and losses in training), on the features' manager
   */
  public Output propose(
      ParameterStore parameterStore,
      NDList features,
      List<int[]> imageSizes,
      int paddedHeight,
      int paddedWidth,
      boolean training,
      List<ImageTargets> targets) {
    return propose(
        parameterStore,
        new RpnInputs(features, imageSizes, null, paddedHeight, paddedWidth),
        training,
        targets);
  }

  /**
   * Proposes regions for a transformed batch (sizes, padding and resize scales from the batch), and
   * computes the RPN losses when training.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param batch the transformed images the features were computed from
   * @param training whether this is a training pass (top-n settings and losses)
   * @param targets the ground truth of every image in resized pixels; required when training,
   *     ignored otherwise
   * @return the proposals (and losses in training), on the features' manager
   */
  public Output propose(
      ParameterStore parameterStore,
      NDList features,
      ImageBatch batch,
      boolean training,
      List<ImageTargets> targets) {
    return propose(parameterStore, RpnInputs.of(features, batch), training, targets);
  }

  private Output propose(
      ParameterStore parameterStore, RpnInputs in, boolean training, List<ImageTargets> targets) {
    int numImages = in.check(anchorGenerator.numLevels(), training, targets);
    NDList features = in.features();
    NDManager manager = features.get(0).getManager();
    List<NDArray> results = new ArrayList<>();
    List<Proposals> proposals;
    NDArray anchors;
    RpnLoss.Losses losses = null;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      RpnHead.AnchorPredictions flat = head.predictAnchors(parameterStore, features, training);
      anchors =
          anchorGenerator.generate(
              manager, in.featureShapes(), in.paddedHeight(), in.paddedWidth());
      long total = anchors.getShape().get(0);
      if (flat.deltas().getShape().get(1) != total) {
        throw new IllegalStateException(
            "head produced " + flat.deltas().getShape().get(1) + " anchors, generator " + total);
      }
      NDArray decoded = boxCoder.decode(flat.deltas().stopGradient(), anchors);
      proposals =
          proposalFilter.filter(
              decoded,
              flat.logits(),
              flat.anchorsPerLevel(),
              in.imageSizes(),
              in.resizeScales(),
              training);
      results.add(anchors);
      for (Proposals p : proposals) {
        results.add(p.boxes());
        results.add(p.scores());
      }
      if (training) {
        losses = loss.compute(flat.logits(), flat.deltas(), anchors, in.imageSizes(), targets);
        results.add(losses.objectness());
        results.add(losses.boxRegression());
      }
      NDScope.unregister(results.toArray(new NDArray[0]));
    }
    // hand the results to the caller's scope, if any
    results.forEach(NDScope::register);
    List<NDArray> boxes = new ArrayList<>(numImages);
    List<NDArray> scores = new ArrayList<>(numImages);
    for (Proposals p : proposals) {
      boxes.add(p.boxes());
      scores.add(p.scores());
    }
    return losses == null
        ? new Output(boxes, scores, anchors, null, null)
        : new Output(boxes, scores, anchors, losses.objectness(), losses.boxRegression());
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    RpnInputs in = RpnInputs.ofBlockInputs(inputs);
    Output out = propose(parameterStore, in, false, null);
    NDList result = new NDList();
    for (int i = 0; i < in.imageSizes().size(); i++) {
      result.add(out.proposals().get(i));
      result.add(out.scores().get(i));
    }
    return result;
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    int n = (int) inputShapes[inputShapes.length - 2].get(0);
    Shape[] out = new Shape[2 * n];
    for (int i = 0; i < n; i++) {
      out[2 * i] = new Shape(-1, 4);
      out[2 * i + 1] = new Shape(-1);
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    int levels = anchorGenerator.numLevels();
    Shape[] featureShapes = new Shape[levels];
    System.arraycopy(inputShapes, 0, featureShapes, 0, levels);
    head.initialize(manager, dataType, featureShapes);
  }

  /** A builder of {@link RegionProposalNetwork} with torchvision's defaults. */
  public static final class Builder {

    private RpnHead head;
    private int inChannels = -1;
    private AnchorGenerator anchorGenerator = AnchorGenerator.builder().build();
    private Objectness objectness = Objectness.SIGMOID;
    private BoxCoder boxCoder = BoxCoder.builder().optWeights(1f, 1f, 1f, 1f).build();
    private ProposalFilter proposalFilter = ProposalFilter.builder().build();
    private RpnLoss loss = RpnLoss.builder().build();

    private Builder() {}

    /**
     * Sets the channel count of the feature maps, from which the head is built; required unless a
     * head is given with {@link #optHead(RpnHead)}.
     *
     * @param inChannels channels of every feature level
     * @return this builder
     */
    public Builder setInChannels(int inChannels) {
      this.inChannels = inChannels;
      return this;
    }

    /**
     * Sets the head instead of building one from {@link #setInChannels(int)} and the anchors.
     *
     * @param head the head
     * @return this builder
     */
    public Builder optHead(RpnHead head) {
      this.head = head;
      return this;
    }

    /**
     * Sets the anchor generator.
     *
     * @param anchorGenerator default torchvision's single level 128/256/512 x 0.5/1/2
     * @return this builder
     */
    public Builder optAnchorGenerator(AnchorGenerator anchorGenerator) {
      this.anchorGenerator = anchorGenerator;
      return this;
    }

    /**
     * Sets how objectness is scored; the default head follows it.
     *
     * @param objectness default {@link Objectness#SIGMOID}
     * @return this builder
     */
    public Builder optObjectness(Objectness objectness) {
      this.objectness = objectness;
      return this;
    }

    /**
     * Sets the box coder that decodes the head's deltas; the loss must encode with an equal one.
     *
     * @param boxCoder default weights (1, 1, 1, 1)
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the proposal filter.
     *
     * @param proposalFilter default {@code ProposalFilter.builder().build()}
     * @return this builder
     */
    public Builder optProposalFilter(ProposalFilter proposalFilter) {
      this.proposalFilter = proposalFilter;
      return this;
    }

    /**
     * Sets the training loss.
     *
     * @param loss default {@code RpnLoss.builder().build()}
     * @return this builder
     */
    public Builder optLoss(RpnLoss loss) {
      this.loss = loss;
      return this;
    }

    /**
     * Builds the RPN.
     *
     * @return the RPN
     * @throws IllegalArgumentException if neither head nor channels are set, the head does not fit
     *     the anchors, or the loss encodes with another box coder
     */
    public RegionProposalNetwork build() {
      BoxCoders.checkSame(boxCoder, loss.getBoxCoder(), "RPN");
      return new RegionProposalNetwork(this);
    }
  }
}
