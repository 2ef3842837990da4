package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.models.ImageTargets;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the RoIs the box head learns from and their targets (torchvision's {@code
 * RoIHeads.select_training_samples}): the ground-truth boxes are appended to each image's
 * proposals, every proposal is matched to the ground truth by a {@link Matcher} and labelled with
 * the matched box's class, background or ignored, a {@link BalancedPositiveNegativeSampler} picks
 * the RoIs of each image, and the positives' matched boxes are encoded as regression targets.
 *
 * <p>Defaults follow torchvision: matcher 0.5 / 0.5 without low-quality matches, 512 RoIs per image
 * with 25% positives, box coder weights (10, 10, 5, 5).
 */
public final class RoiSampler {

  /**
   * The sampled RoIs of a batch, images in order.
   *
   * @param boxes one {@code (S_i, 4)} array of sampled RoIs per image, resized pixels, no gradient
   * @param labels {@code (S)} int64 class of every sampled RoI, 0 for background ({@code S = sum
   *     S_i})
   * @param positiveRows {@code (P)} int64 rows of the positive RoIs among the {@code S}
   * @param regressionTargets {@code (P, 4)} encoded ground truth of the positive RoIs
   */
  public record Samples(
      List<NDArray> boxes, NDArray labels, NDArray positiveRows, NDArray regressionTargets) {

    /**
     * Returns the number of sampled RoIs.
     *
     * @return {@code S}
     */
    public long size() {
      return labels.getShape().get(0);
    }
  }

  private final BoxCoder boxCoder;
  private final Matcher matcher;
  private final BalancedPositiveNegativeSampler sampler;

  private RoiSampler(Builder b) {
    this.boxCoder = b.boxCoder;
    this.matcher = b.matcher;
    this.sampler = b.sampler;
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
   * Returns the box coder that encodes the regression targets.
   *
   * @return the coder
   */
  public BoxCoder getBoxCoder() {
    return boxCoder;
  }

  /**
   * Samples the RoIs of a batch.
   *
   * @param proposals one {@code (P_i, 4)} array per image, resized pixels
   * @param targets the ground truth of every image, resized pixels
   * @return the sampled RoIs with their labels and regression targets
   * @throws IllegalArgumentException if there are no images or not one target per image
   */
  public Samples sample(List<NDArray> proposals, List<ImageTargets> targets) {
    if (proposals.isEmpty() || targets.size() != proposals.size()) {
      throw new IllegalArgumentException(
          "one target per image needed, got "
              + targets.size()
              + " targets for "
              + proposals.size()
              + " images");
    }
    int numImages = proposals.size();
    List<NDArray> sampledBoxes = new ArrayList<>(numImages);
    NDArray labels;
    NDArray rows;
    NDArray regression;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList sampledLabels = new NDList(numImages);
      NDList positiveRows = new NDList();
      NDList regressionTargets = new NDList();
      long offset = 0;
      for (int i = 0; i < numImages; i++) {
        NDArray gt = targets.get(i).boxes();
        NDArray props = proposals.get(i).stopGradient();
        if (gt.getShape().get(0) > 0) {
          props = props.concat(gt.toType(props.getDataType(), false), 0);
        }
        Assignment assigned = assign(props, gt, targets.get(i).labels());
        NDArray sampledIdx = sampler.sample(assigned.labels()).sampledIndices();
        NDArray imageProps = props.get(sampledIdx);
        NDArray imageLabels = assigned.labels().get(sampledIdx);
        sampledBoxes.add(imageProps);
        sampledLabels.add(imageLabels);
        NDArray pos = imageLabels.gt(0).nonzero().squeeze(1);
        if (pos.getShape().get(0) > 0) {
          NDArray matchedGt = gt.get(assigned.matchedGt().get(sampledIdx).get(pos));
          regressionTargets.add(boxCoder.encode(matchedGt, imageProps.get(pos)));
          positiveRows.add(pos.add(offset));
        }
        offset += sampledIdx.getShape().get(0);
      }
      NDArray like = proposals.get(0);
      labels = NDArrays.concat(sampledLabels, 0);
      rows =
          positiveRows.isEmpty()
              ? empty(like, new Shape(0), DataType.INT64)
              : NDArrays.concat(positiveRows, 0);
      regression =
          regressionTargets.isEmpty()
              ? empty(like, new Shape(0, 4), DataType.FLOAT32)
              : NDArrays.concat(regressionTargets, 0);
      NDScope.unregister(labels, rows, regression);
      NDScope.unregister(sampledBoxes.toArray(new NDArray[0]));
    }
    // hand the results to the caller's scope, if any
    for (NDArray a : sampledBoxes) {
      NDScope.register(a);
    }
    NDScope.register(labels);
    NDScope.register(rows);
    NDScope.register(regression);
    return new Samples(sampledBoxes, labels, rows, regression);
  }

  /** A proposal's ground-truth index (0 where none) and class (0 background, -1 ignored). */
  private record Assignment(NDArray matchedGt, NDArray labels) {}

  /**
   * Matches the proposals of one image to its ground truth (torchvision's {@code
   * assign_targets_to_proposals}).
   */
  private Assignment assign(NDArray props, NDArray gt, NDArray gtLabels) {
    if (gt.getShape().get(0) == 0) {
      long p = props.getShape().get(0);
      NDArray zeros = props.getManager().zeros(new Shape(p), DataType.INT64, props.getDevice());
      return new Assignment(zeros, zeros);
    }
    NDArray matched = matcher.match(Boxes.iou(gt, props));
    NDArray clamped = matched.maximum(0);
    NDArray labels = gtLabels.toType(DataType.INT64, false).get(clamped);
    labels = NDArrays.where(matched.eq(Matcher.BELOW_LOW_THRESHOLD), labels.zerosLike(), labels);
    labels =
        NDArrays.where(matched.eq(Matcher.BETWEEN_THRESHOLDS), labels.onesLike().neg(), labels);
    return new Assignment(clamped, labels);
  }

  private static NDArray empty(NDArray like, Shape shape, DataType type) {
    return like.getManager().zeros(shape, type, like.getDevice());
  }

  /** A builder of {@link RoiSampler} with torchvision's defaults. */
  public static final class Builder {

    private BoxCoder boxCoder = BoxCoder.builder().optWeights(10f, 10f, 5f, 5f).build();
    private Matcher matcher =
        Matcher.builder()
            .optHighThreshold(0.5f)
            .optLowThreshold(0.5f)
            .optAllowLowQualityMatches(false)
            .build();
    private BalancedPositiveNegativeSampler sampler =
        BalancedPositiveNegativeSampler.builder()
            .optBatchSizePerImage(512)
            .optPositiveFraction(0.25)
            .build();

    private Builder() {}

    /**
     * Sets the box coder that encodes the regression targets; it must be the one the detections are
     * decoded with.
     *
     * @param boxCoder default weights (10, 10, 5, 5)
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the proposal matcher.
     *
     * @param matcher default 0.5 / 0.5 without low-quality matches
     * @return this builder
     */
    public Builder optMatcher(Matcher matcher) {
      this.matcher = matcher;
      return this;
    }

    /**
     * Sets the proposal sampler.
     *
     * @param sampler default 512 per image, 25% positive
     * @return this builder
     */
    public Builder optSampler(BalancedPositiveNegativeSampler sampler) {
      this.sampler = sampler;
      return this;
    }

    /**
     * Builds the sampler.
     *
     * @return the sampler
     */
    public RoiSampler build() {
      return new RoiSampler(this);
    }
  }
}
