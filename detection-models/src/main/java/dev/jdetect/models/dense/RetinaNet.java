package dev.jdetect.models.dense;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/**
 * RetinaNet (torchvision's {@code RetinaNet}): {@link dev.jdetect.models.rcnn.RcnnTransform} →
 * backbone (usually a ResNet with a feature pyramid) → {@link RetinaNetHead} on every level, with
 * anchors from an {@link AnchorGenerator}; {@link RetinaNetLoss} in training ({@code
 * loss_classification}, {@code loss_bbox_regression}), {@link DensePostProcessor} on the sigmoid of
 * the logits in inference. See {@link DenseDetector} for inputs and outputs; build with {@link
 * #builder()} or {@code dev.jdetect.models.zoo.TorchvisionDenseDetectors}.
 *
 * <p>Parameters carry torchvision's names ({@code head.classification_head.cls_logits.weight},
 * ...). A model built for {@code C} object classes has {@code C + 1} logits per anchor, as
 * torchvision with {@code num_classes = C + 1}: class ids are the logit columns and column 0
 * (background) never receives a positive target.
 */
public final class RetinaNet extends DenseDetector {

  private static final String[] LOSS_NAMES = {"loss_classification", "loss_bbox_regression"};

  private final RetinaNetHead head;
  private final RetinaNetLoss loss;
  private final DensePostProcessor postProcessor;

  private RetinaNet(Builder b) {
    super(b, b.head, b.head.numLogits(), LOSS_NAMES);
    this.head = b.head;
    this.loss = b.loss;
    this.postProcessor = b.postProcessor;
  }

  /**
   * Returns a builder for a RetinaNet on any backbone whose levels share one channel count.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the head.
   *
   * @return the head
   */
  public RetinaNetHead getHead() {
    return head;
  }

  /**
   * Runs the head on the pyramid levels.
   *
   * @param parameterStore the parameter store
   * @param features the levels (from {@link #features})
   * @param training whether this is a training pass
   * @return the logits and deltas of every anchor
   */
  public RetinaNetHead.Predictions predict(
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
  public List<Detections> postprocess(RetinaNetHead.Predictions p, Features features) {
    return postProcessor.process(
        Activation.sigmoid(p.logits()),
        p.deltas(),
        features.anchors(),
        p.anchorsPerLevel(),
        features.batch().imageSizes());
  }

  @Override
  protected NDList trainingLosses(
      ParameterStore parameterStore, Features features, List<ImageTargets> targets) {
    RetinaNetLoss.Losses l =
        loss.compute(predict(parameterStore, features, true), features.anchors(), targets);
    return new NDList(l.classification(), l.boxRegression());
  }

  /** A builder of {@link RetinaNet}. */
  public static final class Builder extends BaseBuilder<Builder> {

    private RetinaNetHead head;
    private RetinaNetLoss loss = RetinaNetLoss.builder().build();
    private DensePostProcessor postProcessor = DensePostProcessor.builder().build();

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
    public Builder setHead(RetinaNetHead head) {
      this.head = head;
      return this;
    }

    /**
     * Sets the training loss (default torchvision's v1: focal loss and L1 box loss).
     *
     * @param loss the loss
     * @return this builder
     */
    public Builder optLoss(RetinaNetLoss loss) {
      this.loss = loss;
      return this;
    }

    /**
     * Sets the inference post-processing (default torchvision's RetinaNet settings: score 0.05,
     * 1000 candidates per level, NMS 0.5, 300 detections, box coder weights 1).
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
    public RetinaNet build() {
      validate("head", head == null ? -1 : head.numAnchors());
      if (loss == null || postProcessor == null) {
        throw new IllegalArgumentException("loss and postProcessor must not be null");
      }
      return new RetinaNet(this);
    }
  }
}
