package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.core.match.SampleMasks;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/**
 * The training losses of the region proposal network (torchvision's {@code
 * assign_targets_to_anchors} and {@code compute_loss}): every anchor is labelled object, background
 * or ignored by a {@link Matcher}, a {@link BalancedPositiveNegativeSampler} picks the anchors of
 * each image, the objectness loss is the cross-entropy of the sampled anchors and the box loss the
 * smooth-L1 of the positives' deltas against their encoded ground truth.
 *
 * <p>Defaults follow torchvision: matcher 0.7 / 0.3 with low-quality matches, 256 anchors per image
 * half positive, box coder weights (1, 1, 1, 1), smooth-L1 beta 1/9, both losses divided by the
 * number of sampled anchors. {@link #classicBuilder()} gives the original paper's loss: anchors
 * crossing the image border ignored, box loss {@code 10 * sum / positives}.
 *
 * <p>The objectness logits decide the form of the loss: {@code (N, T)} logits give a sigmoid binary
 * cross-entropy, {@code (N, T, 2)} (background, object) logits a softmax cross-entropy.
 */
public final class RpnLoss {

  /** What the summed box loss is divided by. */
  public enum BoxLossNormalization {
    /** The number of sampled anchors (torchvision). */
    SAMPLED,
    /** The number of positive anchors (the paper, with {@code lambda = 10}). */
    POSITIVES
  }

  /**
   * The training labels of the anchors of one image.
   *
   * @param labels {@code (T)} int64: 1 object, 0 background, -1 ignored
   * @param matchedGt {@code (T)} int64 index of each anchor's ground-truth box, or {@link
   *     Matcher#BELOW_LOW_THRESHOLD} / {@link Matcher#BETWEEN_THRESHOLDS}; {@code null} for an
   *     image without objects
   */
  public record AnchorLabels(NDArray labels, NDArray matchedGt) {}

  /**
   * The two RPN losses.
   *
   * @param objectness the scalar {@code loss_objectness}
   * @param boxRegression the scalar {@code loss_rpn_box_reg}
   */
  public record Losses(NDArray objectness, NDArray boxRegression) {}

  private final BoxCoder boxCoder;
  private final Matcher matcher;
  private final BalancedPositiveNegativeSampler sampler;
  private final boolean ignoreCrossBoundaryAnchors;
  private final float allowedBorder;
  private final BoxLossNormalization boxLossNormalization;
  private final float boxLossWeight;
  private final float boxLossBeta;

  private RpnLoss(Builder b) {
    this.boxCoder = b.boxCoder;
    this.matcher = b.matcher;
    this.sampler = b.sampler;
    this.ignoreCrossBoundaryAnchors = b.ignoreCrossBoundaryAnchors;
    this.allowedBorder = b.allowedBorder;
    this.boxLossNormalization = b.boxLossNormalization;
    this.boxLossWeight = b.boxLossWeight;
    this.boxLossBeta = b.boxLossBeta;
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
   * Returns a builder preset to the original paper: cross-boundary anchors ignored, box loss {@code
   * 10 * sum / positives}.
   *
   * @return a new builder
   */
  public static Builder classicBuilder() {
    return new Builder()
        .optIgnoreCrossBoundaryAnchors(true)
        .optBoxLoss(BoxLossNormalization.POSITIVES, 10f);
  }

  /**
   * Returns the box coder that encodes the regression targets.
   *
   * @return the coder
   */
  public BoxCoder getBoxCoder() {
    return boxCoder;
  }

  /**
   * Computes the losses of a batch.
   *
   * @param logits {@code (N, T)} sigmoid or {@code (N, T, 2)} softmax objectness logits
   * @param deltas {@code (N, T, 4)} predicted box deltas
   * @param anchors {@code (T, 4)} anchors of one image (the same for every image)
   * @param imageSizes {@code {h, w}} of every image after resizing
   * @param targets the ground truth of every image, in resized pixels
   * @return the losses, named {@code loss_objectness} and {@code loss_rpn_box_reg}
   * @throws IllegalArgumentException if the image, target or anchor counts disagree
   */
  public Losses compute(
      NDArray logits,
      NDArray deltas,
      NDArray anchors,
      List<int[]> imageSizes,
      List<ImageTargets> targets) {
    Shape ds = deltas.getShape();
    if (!ds.equals(new Shape(imageSizes.size(), anchors.getShape().get(0), 4))
        || targets.size() != imageSizes.size()
        || logits.getShape().get(0) != ds.get(0)
        || logits.getShape().get(1) != ds.get(1)) {
      throw new IllegalArgumentException(
          "deltas must be (N, T, 4) and logits (N, T[, 2]) for N images with one target each and"
              + " T anchors; got deltas "
              + ds
              + ", logits "
              + logits.getShape()
              + ", "
              + anchors.getShape().get(0)
              + " anchors, "
              + imageSizes.size()
              + " images, "
              + targets.size()
              + " targets");
    }
    NDArray objLoss;
    NDArray boxLoss;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDManager manager = logits.getManager();
      NDList objTerms = new NDList();
      NDList boxTerms = new NDList();
      long sampled = 0;
      long positives = 0;
      for (int i = 0; i < imageSizes.size(); i++) {
        NDArray gt = targets.get(i).boxes();
        AnchorLabels assigned = labelAnchors(anchors, gt, imageSizes.get(i));
        SampleMasks masks = sampler.sample(assigned.labels());
        NDArray posIdx = masks.positiveIndices();
        NDArray negIdx = masks.negativeIndices();
        long numPos = posIdx.getShape().get(0);
        long numNeg = negIdx.getShape().get(0);
        sampled += numPos + numNeg;
        positives += numPos;
        if (numPos + numNeg > 0) {
          NDArray sampledLogits = logits.get(i).get(posIdx.concat(negIdx, 0));
          NDArray target =
              manager
                  .ones(new Shape(numPos), DataType.FLOAT32, anchors.getDevice())
                  .concat(
                      manager.zeros(new Shape(numNeg), DataType.FLOAT32, anchors.getDevice()), 0);
          objTerms.add(objectnessLoss(sampledLogits, target).sum());
        }
        if (numPos > 0) {
          NDArray matchedGt = gt.get(assigned.matchedGt().get(posIdx));
          NDArray regTargets = boxCoder.encode(matchedGt, anchors.get(posIdx));
          NDArray predicted = deltas.get(i).get(posIdx);
          boxTerms.add(DetectionLosses.smoothL1(predicted, regTargets, boxLossBeta).sum());
        }
      }
      NDArray zero = Scalars.mul(logits.sum(), 0f).abs(); // +0 that keeps the graph
      NDArray objSum = objTerms.isEmpty() ? zero : sum(objTerms);
      NDArray boxSum = boxTerms.isEmpty() ? zero : sum(boxTerms);
      objLoss = sampled == 0 ? objSum : Scalars.div(objSum, (float) sampled);
      long divisor = boxLossNormalization == BoxLossNormalization.POSITIVES ? positives : sampled;
      boxLoss = Scalars.div(Scalars.mul(boxSum, boxLossWeight), (float) Math.max(divisor, 1));
      objLoss.setName("loss_objectness");
      boxLoss.setName("loss_rpn_box_reg");
      NDScope.unregister(objLoss, boxLoss);
    }
    NDScope.register(objLoss);
    NDScope.register(boxLoss);
    return new Losses(objLoss, boxLoss);
  }

  private static NDArray objectnessLoss(NDArray sampledLogits, NDArray target) {
    if (sampledLogits.getShape().dimension() == 2) {
      return DetectionLosses.crossEntropy(sampledLogits, target.toType(DataType.INT64, false));
    }
    return DetectionLosses.binaryCrossEntropyWithLogits(sampledLogits, target);
  }

  /**
   * Labels every anchor of one image: object, background, or ignored (between the thresholds or,
   * when configured, crossing the image border).
   *
   * @param anchors {@code (T, 4)} anchors
   * @param gt {@code (G, 4)} ground-truth boxes (G may be 0)
   * @param imageSize {@code {h, w}} of the resized image
   * @return the labels and matched ground-truth indices, on the anchors' manager
   */
  public AnchorLabels labelAnchors(NDArray anchors, NDArray gt, int[] imageSize) {
    NDManager manager = anchors.getManager();
    long total = anchors.getShape().get(0);
    NDArray inside = ignoreCrossBoundaryAnchors ? insideImage(anchors, imageSize) : null;
    NDArray labels;
    NDArray matched = null;
    if (gt.getShape().get(0) == 0) {
      labels = manager.zeros(new Shape(total), DataType.INT64, anchors.getDevice());
    } else {
      NDArray iou = Boxes.iou(gt, anchors);
      if (inside != null) {
        // outside anchors can neither match nor be the best anchor of a ground-truth box
        NDArray insideGrid = inside.expandDims(0).broadcast(iou.getShape());
        iou = NDArrays.where(insideGrid, iou, iou.onesLike().neg());
      }
      matched = matcher.match(iou);
      NDArray positive = matched.gte(0).toType(DataType.INT64, false);
      NDArray between = matched.eq(Matcher.BETWEEN_THRESHOLDS).toType(DataType.INT64, false);
      labels = positive.sub(between);
    }
    if (inside != null) {
      labels = NDArrays.where(inside, labels, labels.onesLike().neg());
    }
    return new AnchorLabels(labels, matched);
  }

  /** Whether each anchor lies inside the image, up to the allowed border. */
  private NDArray insideImage(NDArray anchors, int[] imageSize) {
    NDList c = anchors.split(4, 1);
    return c.get(0)
        .gte(-allowedBorder)
        .logicalAnd(c.get(1).gte(-allowedBorder))
        .logicalAnd(c.get(2).lte(imageSize[1] + allowedBorder))
        .logicalAnd(c.get(3).lte(imageSize[0] + allowedBorder))
        .squeeze(1);
  }

  private static NDArray sum(NDList terms) {
    NDArray s = terms.get(0);
    for (int i = 1; i < terms.size(); i++) {
      s = s.add(terms.get(i));
    }
    return s;
  }

  /** A builder of {@link RpnLoss} with torchvision's defaults. */
  public static final class Builder {

    private BoxCoder boxCoder = BoxCoder.builder().optWeights(1f, 1f, 1f, 1f).build();
    private Matcher matcher =
        Matcher.builder()
            .optHighThreshold(0.7f)
            .optLowThreshold(0.3f)
            .optAllowLowQualityMatches(true)
            .build();
    private BalancedPositiveNegativeSampler sampler =
        BalancedPositiveNegativeSampler.builder()
            .optBatchSizePerImage(256)
            .optPositiveFraction(0.5)
            .build();
    private boolean ignoreCrossBoundaryAnchors;
    private float allowedBorder;
    private BoxLossNormalization boxLossNormalization = BoxLossNormalization.SAMPLED;
    private float boxLossWeight = 1f;
    private float boxLossBeta = 1f / 9;

    private Builder() {}

    /**
     * Sets the box coder that encodes the regression targets; it must be the one the RPN decodes
     * with.
     *
     * @param boxCoder default weights (1, 1, 1, 1)
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the anchor matcher.
     *
     * @param matcher default 0.7 / 0.3 with low-quality matches
     * @return this builder
     */
    public Builder optMatcher(Matcher matcher) {
      this.matcher = matcher;
      return this;
    }

    /**
     * Sets the anchor sampler.
     *
     * @param sampler default 256 per image, half positive
     * @return this builder
     */
    public Builder optSampler(BalancedPositiveNegativeSampler sampler) {
      this.sampler = sampler;
      return this;
    }

    /**
     * Sets whether anchors crossing the image border are ignored (the paper).
     *
     * @param ignore default false
     * @return this builder
     */
    public Builder optIgnoreCrossBoundaryAnchors(boolean ignore) {
      this.ignoreCrossBoundaryAnchors = ignore;
      return this;
    }

    /**
     * Sets how far (pixels) an anchor may cross the border before it is ignored.
     *
     * @param allowedBorder default 0
     * @return this builder
     */
    public Builder optAllowedBorder(float allowedBorder) {
      this.allowedBorder = allowedBorder;
      return this;
    }

    /**
     * Sets the box loss normalisation and weight: the summed smooth-L1 of the positives is
     * multiplied by {@code weight} and divided by the sampled or positive count.
     *
     * @param normalization default {@link BoxLossNormalization#SAMPLED}
     * @param weight default 1 (10 in the paper)
     * @return this builder
     */
    public Builder optBoxLoss(BoxLossNormalization normalization, float weight) {
      this.boxLossNormalization = normalization;
      this.boxLossWeight = weight;
      return this;
    }

    /**
     * Sets the smooth-L1 beta of the box loss.
     *
     * @param beta default 1/9
     * @return this builder
     */
    public Builder optBoxLossBeta(float beta) {
      this.boxLossBeta = beta;
      return this;
    }

    /**
     * Builds the loss.
     *
     * @return the loss
     * @throws IllegalArgumentException on invalid settings
     */
    public RpnLoss build() {
      if (!(boxLossWeight >= 0) || !(boxLossBeta >= 0)) {
        throw new IllegalArgumentException(
            "box loss weight and beta must be >= 0, got " + boxLossWeight + ", " + boxLossBeta);
      }
      return new RpnLoss(this);
    }
  }
}
