package dev.jdetect.models.dense;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.coder.BoxLinearCoder;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/**
 * FCOS (torchvision's {@code FCOS}), the anchor-free dense detector: {@link
 * dev.jdetect.models.rcnn.RcnnTransform} → backbone with a feature pyramid → {@link FcosHead} on
 * every level, one location per cell (an anchor of the level's stride, ratio 1, marks its centre
 * and size); {@link FcosLoss} in training ({@code loss_classification}, {@code
 * loss_bbox_regression}, {@code loss_bbox_ctrness}), {@link DensePostProcessor} on {@code
 * sqrt(sigmoid(class) * sigmoid(centre-ness))} with {@link BoxLinearCoder} boxes in inference
 * (score 0.2, 1000 candidates per level, NMS 0.6, 100 detections). See {@link DenseDetector} for
 * inputs and outputs; build with {@link #builder()} or {@code
 * dev.jdetect.models.zoo.TorchvisionDenseDetectors}.
 *
 * <p>A model built for {@code C} object classes has {@code C + 1} logits per location, as
 * torchvision with {@code num_classes = C + 1}.
 */
public final class Fcos extends DenseDetector {

  private static final String[] LOSS_NAMES = {
    "loss_classification", "loss_bbox_regression", "loss_bbox_ctrness"
  };

  private final FcosHead head;
  private final FcosLoss loss;
  private final DensePostProcessor postProcessor;

  private Fcos(Builder b) {
    super(b, b.head, b.head.numLogits(), LOSS_NAMES);
    this.head = b.head;
    this.loss = b.loss;
    this.postProcessor = b.postProcessor;
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
   * Returns torchvision's FCOS post-processing: score 0.2, 1000 candidates per level, NMS 0.6, 100
   * detections, {@link BoxLinearCoder} boxes normalised by the stride.
   *
   * @return a builder preset to those values
   */
  public static DensePostProcessor.Builder torchvisionPostProcessing() {
    BoxLinearCoder coder = new BoxLinearCoder(true);
    return DensePostProcessor.builder()
        .optScoreThreshold(0.2f)
        .optNmsThreshold(0.6f)
        .optDetectionsPerImage(100)
        .optBoxDecoder(coder::decode);
  }

  /**
   * Returns the head.
   *
   * @return the head
   */
  public FcosHead getHead() {
    return head;
  }

  /**
   * Runs the head on the pyramid levels.
   *
   * @param parameterStore the parameter store
   * @param features the levels (from {@link #features})
   * @param training whether this is a training pass
   * @return the logits, distances and centre-ness of every location
   */
  public FcosHead.Predictions predict(
      ParameterStore parameterStore, Features features, boolean training) {
    return head.predict(parameterStore, features.levels(), training);
  }

  @Override
  protected List<Detections> detections(ParameterStore parameterStore, Features features) {
    return postprocess(predict(parameterStore, features, false), features);
  }

  /**
   * Turns the head's predictions into detections: per-level score threshold and top-k, box
   * decoding, clipping and batched NMS.
   *
   * @param p the head's predictions (from {@link #predict})
   * @param features the batch, levels and anchors they were predicted on
   * @return the detections per image, in the pixels of the transformed batch
   */
  public List<Detections> postprocess(FcosHead.Predictions p, Features features) {
    return postProcessor.process(
        Activation.sigmoid(p.logits()).mul(Activation.sigmoid(p.centerness())).sqrt(),
        p.distances(),
        features.anchors(),
        p.pointsPerLevel(),
        features.batch().imageSizes());
  }

  @Override
  protected NDList trainingLosses(
      ParameterStore parameterStore, Features features, List<ImageTargets> targets) {
    FcosLoss.Losses l =
        loss.compute(predict(parameterStore, features, true), features.anchors(), targets);
    return new NDList(l.classification(), l.boxRegression(), l.centerness());
  }

  /** A builder of {@link Fcos}. */
  public static final class Builder extends BaseBuilder<Builder> {

    private FcosHead head;
    private FcosLoss loss = new FcosLoss(1.5f);
    private DensePostProcessor postProcessor = torchvisionPostProcessing().build();

    private Builder() {}

    @Override
    protected Builder self() {
      return this;
    }

    /**
     * Sets the head (required).
     *
     * @param head the head
     * @return this builder
     */
    public Builder setHead(FcosHead head) {
      this.head = head;
      return this;
    }

    /**
     * Sets the training loss (default centre sampling radius 1.5).
     *
     * @param loss the loss
     * @return this builder
     */
    public Builder optLoss(FcosLoss loss) {
      this.loss = loss;
      return this;
    }

    /**
     * Sets the inference post-processing (default {@link #torchvisionPostProcessing()}).
     *
     * @param postProcessor the post-processor
     * @return this builder
     */
    public Builder optPostProcessor(DensePostProcessor postProcessor) {
      this.postProcessor = postProcessor;
      return this;
    }

    /**
     * Builds the model.
     *
     * @return the model
     * @throws IllegalArgumentException if a part is missing or the parts disagree
     */
    public Fcos build() {
      validate("head", head == null ? -1 : 1);
      if (loss == null || postProcessor == null) {
        throw new IllegalArgumentException("loss and postProcessor must not be null");
      }
      return new Fcos(this);
    }
  }
}
