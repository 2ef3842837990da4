package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.loss.Reduction;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/**
 * RetinaNet's training loss, as torchvision's {@code RetinaNet.compute_loss}: every anchor is
 * matched to a ground-truth box by IoU ({@link Matcher} 0.5 / 0.4 with low-quality matches); the
 * classification loss is the sigmoid focal loss ({@code alpha 0.25, gamma 2}) summed over all
 * anchors that are not between the thresholds, against one-hot targets of the foreground anchors;
 * the box loss is summed over the foreground anchors. Both are divided by {@code max(1, number of
 * foreground anchors)} per image and averaged over the images. Images without objects train: all
 * their anchors are background.
 */
public final class RetinaNetLoss {

  /** The box regression loss, torchvision's {@code _box_loss} types. */
  public enum BoxLoss {
    /** L1 on the encoded deltas ({@code retinanet_resnet50_fpn}). */
    L1,
    /** Smooth L1 with beta 1 on the encoded deltas. */
    SMOOTH_L1,
    /** Generalized IoU loss on the decoded boxes ({@code retinanet_resnet50_fpn_v2}). */
    GIOU
  }

  /**
   * The two losses of a batch.
   *
   * @param classification the focal loss, a scalar
   * @param boxRegression the box loss, a scalar
   */
  public record Losses(NDArray classification, NDArray boxRegression) {}

  private static final float GIOU_EPS = 1e-7f;

  private final Matcher matcher;
  private final BoxCoder boxCoder;
  private final BoxLoss boxLoss;
  private final float alpha;
  private final float gamma;

  private RetinaNetLoss(Builder b) {
    this.matcher = b.matcher;
    this.boxCoder = b.boxCoder;
    this.boxLoss = b.boxLoss;
    this.alpha = b.alpha;
    this.gamma = b.gamma;
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
   * Returns the box loss type.
   *
   * @return the box loss
   */
  public BoxLoss boxLoss() {
    return boxLoss;
  }

  /**
   * Computes the losses of a batch.
   *
   * @param predictions the head's outputs, {@code T} anchors per image
   * @param anchors {@code (T, 4)} anchors (the same for every image of the batch)
   * @param targets one target per image, in the pixels of the transformed batch
   * @return the classification and box losses, in the caller's scope
   * @throws IllegalArgumentException if the counts disagree
   */
  public Losses compute(
      RetinaNetHead.Predictions predictions, NDArray anchors, List<ImageTargets> targets) {
    long numImages = predictions.logits().getShape().get(0);
    if (numImages != targets.size()) {
      throw new IllegalArgumentException(
          "the batch has " + numImages + " images but " + targets.size() + " targets");
    }
    Losses result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList cls = new NDList(targets.size());
      NDList box = new NDList(targets.size());
      for (int i = 0; i < targets.size(); i++) {
        ImageTargets target = targets.get(i);
        NDArray matched = match(target, anchors);
        NDArray foreground = matched.gte(0L);
        long numForeground = foreground.sum().getLong();
        float norm = Math.max(1, numForeground);
        NDArray logits = predictions.logits().get(i);
        cls.add(Scalars.div(classification(logits, target, matched, foreground), norm));
        NDArray fgIndex = foreground.nonzero().reshape(-1);
        NDArray deltas = predictions.deltas().get(i).get(fgIndex);
        NDArray gt = target.boxes().get(matched.get(fgIndex));
        box.add(Scalars.div(boxLoss(deltas, gt, anchors.get(fgIndex)), norm));
      }
      NDArray classification = Scalars.div(sum(cls), cls.size());
      NDArray regression = Scalars.div(sum(box), box.size());
      NDScope.unregister(classification, regression);
      result = new Losses(classification, regression);
    }
    NDScope.register(result.classification());
    NDScope.register(result.boxRegression());
    return result;
  }

  /** {@code x[0] + x[1] + ...} in that order, as torchvision's {@code _sum}. */
  private static NDArray sum(NDList terms) {
    NDArray total = terms.get(0);
    for (int i = 1; i < terms.size(); i++) {
      total = total.add(terms.get(i));
    }
    return total;
  }

  /** The matched ground-truth index of every anchor, or a negative code. */
  private NDArray match(ImageTargets target, NDArray anchors) {
    if (target.size() == 0) {
      return anchors
          .getManager()
          .full(
              new Shape(anchors.getShape().get(0)),
              Matcher.BELOW_LOW_THRESHOLD,
              DataType.INT64,
              anchors.getDevice());
    }
    return matcher.match(Boxes.iou(target.boxes(), anchors));
  }

  /** The focal loss summed over the anchors that are not ignored. */
  private NDArray classification(
      NDArray logits, ImageTargets target, NDArray matched, NDArray foreground) {
    long numLogits = logits.getShape().get(1);
    NDArray classTargets;
    if (target.size() == 0) {
      classTargets = logits.zerosLike().stopGradient();
    } else {
      NDArray safe = matched.maximum(0L);
      NDArray labels = target.labels().toType(DataType.INT64, false).get(safe);
      NDArray oneHot = labels.oneHot((int) numLogits).toType(logits.getDataType(), false);
      classTargets = oneHot.mul(foreground.expandDims(1).toType(logits.getDataType(), false));
    }
    NDArray loss = DetectionLosses.sigmoidFocal(logits, classTargets, alpha, gamma);
    NDArray valid =
        matched.neq((long) Matcher.BETWEEN_THRESHOLDS).expandDims(1).broadcast(loss.getShape());
    return NDArrays.where(valid, loss, loss.zerosLike()).sum();
  }

  /** The box loss summed over the foreground anchors. */
  private NDArray boxLoss(NDArray deltas, NDArray gt, NDArray anchors) {
    switch (boxLoss) {
      case GIOU:
        return DetectionLosses.generalizedIouLoss(
            boxCoder.decode(deltas, anchors), gt, Reduction.SUM, GIOU_EPS);
      case SMOOTH_L1:
        return DetectionLosses.smoothL1(deltas, boxCoder.encode(gt, anchors), 1f).sum();
      default:
        return DetectionLosses.smoothL1(deltas, boxCoder.encode(gt, anchors), 0f).sum();
    }
  }

  /** A builder of {@link RetinaNetLoss} with torchvision's defaults. */
  public static final class Builder {

    private Matcher matcher =
        Matcher.builder().optThresholds(0.5f, 0.4f).optAllowLowQualityMatches(true).build();
    private BoxCoder boxCoder = BoxCoder.builder().optWeights(1f, 1f, 1f, 1f).build();
    private BoxLoss boxLoss = BoxLoss.L1;
    private float alpha = DetectionLosses.DEFAULT_FOCAL_ALPHA;
    private float gamma = DetectionLosses.DEFAULT_FOCAL_GAMMA;

    private Builder() {}

    /**
     * Sets the anchor matcher (default IoU 0.5 / 0.4 with low-quality matches).
     *
     * @param matcher the matcher
     * @return this builder
     */
    public Builder optMatcher(Matcher matcher) {
      this.matcher = matcher;
      return this;
    }

    /**
     * Sets the box coder (default weights 1, 1, 1, 1).
     *
     * @param boxCoder the coder
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the box loss (default {@link BoxLoss#L1}; torchvision's v2 uses {@link BoxLoss#GIOU}).
     *
     * @param boxLoss the box loss
     * @return this builder
     */
    public Builder optBoxLoss(BoxLoss boxLoss) {
      this.boxLoss = boxLoss;
      return this;
    }

    /**
     * Sets the focal loss parameters (default 0.25 and 2).
     *
     * @param alpha the positive weight in [0, 1], or negative for none
     * @param gamma the focusing exponent, {@code >= 0}
     * @return this builder
     */
    public Builder optFocal(float alpha, float gamma) {
      this.alpha = alpha;
      this.gamma = gamma;
      return this;
    }

    /**
     * Builds the loss.
     *
     * @return the loss
     * @throws IllegalArgumentException if a part is missing
     */
    public RetinaNetLoss build() {
      if (matcher == null || boxCoder == null || boxLoss == null) {
        throw new IllegalArgumentException("matcher, boxCoder and boxLoss must not be null");
      }
      return new RetinaNetLoss(this);
    }
  }
}
