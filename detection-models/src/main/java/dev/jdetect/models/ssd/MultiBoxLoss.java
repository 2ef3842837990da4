package dev.jdetect.models.ssd;

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
import dev.jdetect.core.match.HardNegativeMiner;
import dev.jdetect.core.match.SsdMatcher;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/**
 * The SSD MultiBox training loss, as torchvision's {@code SSD.compute_loss}.
 *
 * <ol>
 *   <li>Each image's default boxes are matched to its ground truth with the {@link SsdMatcher} (IoU
 *       threshold, and every ground-truth box keeps its best default box); images without objects
 *       have no positives.
 *   <li>Box term: smooth-L1 ({@code beta}) between the predicted deltas and the encoded matched
 *       boxes, summed over positives.
 *   <li>Class term, {@link ClassLoss#HARD_NEGATIVE_CROSS_ENTROPY} (default): softmax cross entropy
 *       over the positives plus the hardest negatives, {@code negPosRatio} per positive of the
 *       image and at least {@code minNegatives} per image, so images without objects train too; or
 *       {@link ClassLoss#SOFTMAX_FOCAL}: softmax focal loss summed over all default boxes, without
 *       mining.
 *   <li>Both terms are divided by the number of positives in the batch (at least 1).
 * </ol>
 *
 * <p>Returns {@code {loss_bbox_regression, loss_classification}} as named scalars.
 */
public final class MultiBoxLoss implements SsdLoss {

  /** Name of the box-regression loss. */
  public static final String BOX_LOSS = "loss_bbox_regression";

  /** Name of the classification loss. */
  public static final String CLASS_LOSS = "loss_classification";

  /** The classification term. */
  public enum ClassLoss {
    /** Softmax cross entropy on positives and mined hard negatives (SSD, torchvision). */
    HARD_NEGATIVE_CROSS_ENTROPY,
    /** Softmax focal loss on every default box, no mining. */
    SOFTMAX_FOCAL
  }

  private final SsdMatcher matcher;
  private final HardNegativeMiner miner;
  private final BoxCoder boxCoder;
  private final float beta;
  private final ClassLoss classLoss;
  private final float focalAlpha;
  private final float focalGamma;

  private MultiBoxLoss(Builder b) {
    this.matcher = SsdMatcher.builder().optThreshold(b.iouThreshold).build();
    this.miner =
        HardNegativeMiner.builder()
            .optNegPosRatio(b.negPosRatio)
            .optMinNegatives(b.minNegatives < 0 ? (int) Math.ceil(b.negPosRatio) : b.minNegatives)
            .build();
    this.boxCoder = b.boxCoder;
    this.beta = b.beta;
    this.classLoss = b.classLoss;
    this.focalAlpha = b.focalAlpha;
    this.focalGamma = b.focalGamma;
  }

  /**
   * Creates a builder with torchvision's SSD settings: IoU 0.5, 3 negatives per positive, smooth-L1
   * beta 1, box coder weights (10, 10, 5, 5), hard-negative cross entropy.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the box coder used to encode targets.
   *
   * @return the coder
   */
  public BoxCoder boxCoder() {
    return boxCoder;
  }

  /**
   * Computes the losses of a batch.
   *
   * @param clsLogits {@code (N, A, C + 1)} class logits
   * @param bboxRegression {@code (N, A, 4)} predicted deltas
   * @param anchors {@code (A, 4)} default boxes, xyxy in the pixels of the (transformed) input
   * @param targets per image the boxes {@code (G_i, 4)} in the same pixels and labels in {@code
   *     1..C}; {@code G_i} may be 0
   * @return {@code {loss_bbox_regression, loss_classification}} scalars on {@code clsLogits}'
   *     manager
   * @throws IllegalArgumentException if the shapes do not agree
   * @throws ArithmeticException if {@code clsLogits} or {@code bboxRegression} hold NaN or infinity
   *     (the model diverged)
   */
  @Override
  public NDList compute(
      NDArray clsLogits, NDArray bboxRegression, NDArray anchors, List<ImageTargets> targets) {
    LossInputs.check(clsLogits, bboxRegression, anchors, targets);
    Shape cs = clsLogits.getShape();
    int batch = (int) cs.get(0);
    long numAnchors = cs.get(1);
    NDManager manager = clsLogits.getManager();
    NDArray boxLoss;
    NDArray clsLoss;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      checkFinite(clsLogits, bboxRegression);
      NDList classTargets = new NDList(batch);
      NDList boxTerms = new NDList(batch);
      long numPositive = 0;
      for (int i = 0; i < batch; i++) {
        NDArray gtBoxes = targets.get(i).boxes();
        NDArray gtLabels = targets.get(i).labels().toType(DataType.INT64, false);
        long g = gtBoxes.getShape().get(0);
        if (g == 0) {
          classTargets.add(
              manager.zeros(new Shape(numAnchors), DataType.INT64, clsLogits.getDevice()));
          continue;
        }
        NDArray matched = matcher.match(Boxes.iou(gtBoxes, anchors));
        NDArray positive = matched.gte(0);
        NDArray safe = matched.maximum(0);
        NDArray labels = gtLabels.get(safe);
        classTargets.add(NDArrays.where(positive, labels, labels.zerosLike()));
        long pos = positive.sum().getLong();
        numPositive += pos;
        if (pos > 0) {
          NDArray regTargets = boxCoder.encode(gtBoxes.get(safe), anchors);
          NDArray l1 =
              DetectionLosses.smoothL1(bboxRegression.get(i), regTargets, beta).sum(new int[] {1});
          boxTerms.add(l1.mul(positive.toType(l1.getDataType(), false)).sum());
        }
      }
      float normaliser = Math.max(1, numPositive);
      NDArray clsTargets = NDArrays.stack(classTargets, 0);
      NDArray positiveMask = clsTargets.gt(0);
      if (classLoss == ClassLoss.HARD_NEGATIVE_CROSS_ENTROPY) {
        NDArray ce = DetectionLosses.crossEntropy(clsLogits, clsTargets);
        NDArray negatives = miner.select(ce, positiveMask);
        NDArray keep = positiveMask.logicalOr(negatives).toType(ce.getDataType(), false);
        clsLoss = Scalars.div(ce.mul(keep).sum(), normaliser);
      } else {
        NDArray focal =
            DetectionLosses.softmaxFocal(
                clsLogits,
                clsTargets,
                focalAlpha,
                focalGamma,
                DetectionLosses.DEFAULT_IGNORE_INDEX);
        clsLoss = Scalars.div(focal.sum(), normaliser);
      }
      if (boxTerms.isEmpty()) {
        boxLoss = Scalars.mul(bboxRegression.sum(), 0f);
      } else {
        NDArray sum = boxTerms.get(0);
        for (int i = 1; i < boxTerms.size(); i++) {
          sum = sum.add(boxTerms.get(i));
        }
        boxLoss = Scalars.div(sum, normaliser);
      }
      NDScope.unregister(boxLoss, clsLoss);
    }
    boxLoss.attach(manager);
    clsLoss.attach(manager);
    boxLoss.setName(BOX_LOSS);
    clsLoss.setName(CLASS_LOSS);
    return new NDList(boxLoss, clsLoss);
  }

  /**
   * Fails fast, with one device sync, when the head outputs hold NaN or infinity: the model has
   * diverged (learning rate too high, bad initialisation or input scale) and the matching and
   * mining below would only report it as a bad loss input.
   */
  private static void checkFinite(NDArray clsLogits, NDArray bboxRegression) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      // A sum is finite iff every term is (short of overflow, itself a sign of divergence).
      NDArray sums =
          NDArrays.stack(
              new NDList(
                  clsLogits.sum().toType(DataType.FLOAT32, false),
                  bboxRegression.sum().toType(DataType.FLOAT32, false)));
      float[] v = sums.toFloatArray();
      if (!Float.isFinite(v[0]) || !Float.isFinite(v[1])) {
        throw new ArithmeticException(
            "SSD training diverged: the head produced non-finite "
                + (!Float.isFinite(v[0]) ? "cls_logits" : "")
                + (!Float.isFinite(v[0]) && !Float.isFinite(v[1]) ? " and " : "")
                + (!Float.isFinite(v[1]) ? "bbox_regression" : "")
                + " (sum "
                + (!Float.isFinite(v[0]) ? v[0] : v[1])
                + ") for a batch of shape "
                + clsLogits.getShape()
                + "; the weights are NaN/Inf or exploding. Lower the learning rate, clip"
                + " gradients, or check the initialisation and input normalisation");
      }
    }
  }

  /** Builder for {@link MultiBoxLoss}. */
  public static final class Builder {
    private float iouThreshold = 0.5f;
    private float negPosRatio = 3f;
    private int minNegatives = -1;
    private float beta = 1f;
    private BoxCoder boxCoder = BoxCoder.builder().optWeights(10, 10, 5, 5).build();
    private ClassLoss classLoss = ClassLoss.HARD_NEGATIVE_CROSS_ENTROPY;
    private float focalAlpha = 0.25f;
    private float focalGamma = 2f;

    private Builder() {}

    /**
     * Sets the matching IoU threshold (default 0.5).
     *
     * @param iouThreshold the threshold in (0, 1]
     * @return this builder
     */
    public Builder optIouThreshold(float iouThreshold) {
      this.iouThreshold = iouThreshold;
      return this;
    }

    /**
     * Sets the number of hard negatives kept per positive (default 3).
     *
     * @param negPosRatio the ratio, {@code >= 0}
     * @return this builder
     */
    public Builder optNegPosRatio(float negPosRatio) {
      this.negPosRatio = negPosRatio;
      return this;
    }

    /**
     * Sets the fewest hard negatives an image contributes, however few positives it has (default
     * {@code ceil(negPosRatio)}, i.e. 3). With the default an image without objects still trains
     * its classifier on its hardest background boxes; 0 reproduces torchvision 0.14.1 exactly,
     * where such an image adds nothing to the loss. See {@link HardNegativeMiner}.
     *
     * @param minNegatives the minimum, {@code >= 0}
     * @return this builder
     */
    public Builder optMinNegatives(int minNegatives) {
      if (minNegatives < 0) {
        throw new IllegalArgumentException("minNegatives must be >= 0, got " + minNegatives);
      }
      this.minNegatives = minNegatives;
      return this;
    }

    /**
     * Sets the smooth-L1 switch point (default 1, as torchvision's SSD).
     *
     * @param beta the switch point, {@code >= 0} (0 is plain L1)
     * @return this builder
     */
    public Builder optBeta(float beta) {
      this.beta = beta;
      return this;
    }

    /**
     * Sets the box coder (default weights 10, 10, 5, 5); must equal the post-processor's.
     *
     * @param boxCoder the coder
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Selects the classification term (default hard-negative cross entropy).
     *
     * @param classLoss the term
     * @return this builder
     */
    public Builder optClassLoss(ClassLoss classLoss) {
      this.classLoss = classLoss;
      return this;
    }

    /**
     * Selects the softmax focal class term with the given parameters.
     *
     * @param alpha the weight, {@code >= 0} (default 0.25)
     * @param gamma the focusing exponent, {@code >= 0} (default 2)
     * @return this builder
     */
    public Builder optFocal(float alpha, float gamma) {
      this.classLoss = ClassLoss.SOFTMAX_FOCAL;
      this.focalAlpha = alpha;
      this.focalGamma = gamma;
      return this;
    }

    /**
     * Builds the loss.
     *
     * @return the loss
     * @throws IllegalArgumentException if a setting is out of range
     */
    public MultiBoxLoss build() {
      if (!(iouThreshold > 0 && iouThreshold <= 1)) {
        throw new IllegalArgumentException("iouThreshold must be in (0, 1], got " + iouThreshold);
      }
      if (!(negPosRatio >= 0) || !Float.isFinite(negPosRatio)) {
        throw new IllegalArgumentException("negPosRatio must be >= 0, got " + negPosRatio);
      }
      if (!(beta >= 0) || !Float.isFinite(beta)) {
        throw new IllegalArgumentException("beta must be >= 0, got " + beta);
      }
      if (boxCoder == null || classLoss == null) {
        throw new IllegalArgumentException("boxCoder and classLoss must not be null");
      }
      if (!(focalAlpha >= 0) || !(focalGamma >= 0)) {
        throw new IllegalArgumentException(
            "focal alpha and gamma must be >= 0, got " + focalAlpha + ", " + focalGamma);
      }
      return new MultiBoxLoss(this);
    }
  }
}
