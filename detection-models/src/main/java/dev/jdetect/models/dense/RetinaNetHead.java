package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/**
 * RetinaNet's head (torchvision's {@code RetinaNetHead}): a classification branch ({@code
 * classification_head}: four 3x3 conv + ReLU, then {@code cls_logits} with {@code A * K} channels
 * whose bias starts at {@code -log((1 - p) / p)} for the prior probability {@code p = 0.01}) and a
 * regression branch ({@code regression_head}: the same tower, then {@code bbox_reg} with {@code 4A}
 * channels), both shared by every pyramid level. The v2 head puts a {@link
 * dev.jdetect.models.backbone.GroupNorm} of 32 groups after each tower convolution.
 *
 * <p>{@code K} is the number of logits per anchor. torchvision's {@code num_classes} counts the
 * background, so its COCO head has 91 logits per anchor although the background column never
 * receives a positive target; jdetect keeps that layout so torchvision's weights load.
 */
public final class RetinaNetHead extends DenseHead {

  private final int numAnchors;
  private final int numLogits;

  private RetinaNetHead(Builder b) {
    super(
        branch(b)
            .addOutput("cls_logits", b.numAnchors * b.numLogits, priorBias(b.priorProbability))
            .build(),
        branch(b).addOutput("bbox_reg", b.numAnchors * 4, 0f).build());
    this.numAnchors = b.numAnchors;
    this.numLogits = b.numLogits;
  }

  private static DenseBranch.Builder branch(Builder b) {
    return DenseBranch.builder().setInChannels(b.inChannels).optGroupNorm(b.groupNormGroups);
  }

  private static float priorBias(double priorProbability) {
    return (float) -Math.log((1 - priorProbability) / priorProbability);
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
   * Returns the number of anchors per location.
   *
   * @return {@code A}
   */
  public int numAnchors() {
    return numAnchors;
  }

  /**
   * Returns the number of class logits per anchor.
   *
   * @return {@code K}
   */
  public int numLogits() {
    return numLogits;
  }

  /**
   * The head's outputs for every anchor of a batch, levels concatenated in the anchor generator's
   * order (location by location, the anchors of a location in a row).
   *
   * @param logits {@code (N, T, K)} class logits
   * @param deltas {@code (N, T, 4)} box deltas
   * @param anchorsPerLevel the number of anchors of each level, summing to {@code T}
   */
  public record Predictions(NDArray logits, NDArray deltas, int[] anchorsPerLevel) {}

  /**
   * Runs both branches and lays their outputs out with one row per anchor.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param training whether this is a training pass
   * @return the logits and deltas of every anchor
   */
  public Predictions predict(ParameterStore parameterStore, NDList features, boolean training) {
    NDList out = forward(parameterStore, features, training);
    int levels = features.size();
    int[] perLevel = new int[levels];
    NDList logits = new NDList(levels);
    NDList deltas = new NDList(levels);
    for (int l = 0; l < levels; l++) {
      Shape s = features.get(l).getShape();
      perLevel[l] = (int) (s.get(2) * s.get(3) * numAnchors);
      logits.add(perAnchor(out.get(l), numAnchors, numLogits));
      deltas.add(perAnchor(out.get(levels + l), numAnchors, 4));
    }
    return new Predictions(concat(logits), concat(deltas), perLevel);
  }

  /** A builder of {@link RetinaNetHead}. */
  public static final class Builder {

    private int inChannels = -1;
    private int numAnchors = -1;
    private int numLogits = -1;
    private int groupNormGroups;
    private double priorProbability = 0.01;

    private Builder() {}

    /**
     * Sets the channel count of the pyramid levels (required).
     *
     * @param inChannels channels
     * @return this builder
     */
    public Builder setInChannels(int inChannels) {
      this.inChannels = inChannels;
      return this;
    }

    /**
     * Sets the number of anchors per location (required).
     *
     * @param numAnchors anchors
     * @return this builder
     */
    public Builder setNumAnchors(int numAnchors) {
      this.numAnchors = numAnchors;
      return this;
    }

    /**
     * Sets the number of class logits per anchor (required): torchvision's {@code num_classes},
     * background included.
     *
     * @param numLogits logits per anchor
     * @return this builder
     */
    public Builder setNumLogits(int numLogits) {
      this.numLogits = numLogits;
      return this;
    }

    /**
     * Puts a group norm with this many groups after every tower convolution (default 0, none; v2:
     * 32).
     *
     * @param groups groups, 0 for none
     * @return this builder
     */
    public Builder optGroupNorm(int groups) {
      this.groupNormGroups = groups;
      return this;
    }

    /**
     * Sets the probability every class logit starts at (default 0.01).
     *
     * @param priorProbability in (0, 1)
     * @return this builder
     */
    public Builder optPriorProbability(double priorProbability) {
      this.priorProbability = priorProbability;
      return this;
    }

    /**
     * Builds the head.
     *
     * @return the head
     * @throws IllegalArgumentException on missing or invalid settings
     */
    public RetinaNetHead build() {
      if (inChannels < 1 || numAnchors < 1 || numLogits < 1) {
        throw new IllegalArgumentException(
            "inChannels ("
                + inChannels
                + "), numAnchors ("
                + numAnchors
                + ") and numLogits ("
                + numLogits
                + ") must be >= 1");
      }
      if (!(priorProbability > 0 && priorProbability < 1)) {
        throw new IllegalArgumentException(
            "priorProbability must be in (0, 1), got " + priorProbability);
      }
      return new RetinaNetHead(this);
    }
  }
}
