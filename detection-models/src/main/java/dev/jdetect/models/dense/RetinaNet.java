package dev.jdetect.models.dense;

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
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RcnnTransform;
import java.util.ArrayList;
import java.util.List;

/**
 * RetinaNet (torchvision's {@code RetinaNet}): {@link RcnnTransform} → {@link Backbone} (usually a
 * ResNet with a feature pyramid) → {@link RetinaNetHead} on every level, with anchors from an
 * {@link AnchorGenerator}; {@link RetinaNetLoss} in training, {@link RetinaNetPostProcessor} in
 * inference, detections mapped back to the caller's pixels.
 *
 * <p>Children are named {@code backbone} and {@code head}, so the parameters carry torchvision's
 * {@code state_dict} names ({@code head.classification_head.cls_logits.weight}, ...) and load with
 * {@code dev.jdetect.models.weights.WeightImport}.
 *
 * <p>Inputs are float32 RGB images in {@code [0, 1]}: one {@code (N, 3, H, W)} array or several
 * {@code (3, H_i, W_i)} arrays. {@code forward(ps, images, false)} returns the {@link
 * Detections#toNDList} form; {@code forward(ps, images, targets, params)} with {@link Targets} in
 * input pixels returns {@code loss_classification} and {@code loss_bbox_regression}. Images without
 * objects are legal training samples. Build with {@link #builder()} or {@code
 * dev.jdetect.models.zoo.TorchvisionRetinaNets}.
 *
 * <p>A model built for {@code C} object classes has {@code C + 1} logits per anchor, as torchvision
 * with {@code num_classes = C + 1}: class ids are the logit columns and column 0 (background) never
 * receives a positive target.
 */
public final class RetinaNet extends AbstractBlock implements DetectionModel {

  private static final byte VERSION = 1;
  private static final String[] LOSS_NAMES = {"loss_classification", "loss_bbox_regression"};

  private final RcnnTransform transform;
  private final Backbone backbone;
  private final RetinaNetHead head;
  private final AnchorGenerator anchorGenerator;
  private final RetinaNetLoss loss;
  private final RetinaNetPostProcessor postProcessor;
  private final boolean backboneTrainingMode;

  private RetinaNet(Builder b) {
    super(VERSION);
    ConvolutionCheck.ensureCorrect();
    this.transform = b.transform;
    this.anchorGenerator = b.anchorGenerator;
    this.loss = b.loss;
    this.postProcessor = b.postProcessor;
    this.backboneTrainingMode = b.backboneTrainingMode;
    this.backbone = addChildBlock("backbone", b.backbone);
    this.head = addChildBlock("head", b.head);
  }

  /**
   * Returns a builder for a RetinaNet on any backbone whose levels share one channel count.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@inheritDoc} */
  @Override
  public int numClasses() {
    return head.numLogits() - 1;
  }

  /** {@inheritDoc} */
  @Override
  public String[] lossNames() {
    return LOSS_NAMES.clone();
  }

  /**
   * Returns the input transform.
   *
   * @return the transform
   */
  public RcnnTransform getTransform() {
    return transform;
  }

  /**
   * Returns the backbone.
   *
   * @return the backbone
   */
  public Backbone getBackbone() {
    return backbone;
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
   * Returns the anchor generator.
   *
   * @return the anchor generator
   */
  public AnchorGenerator getAnchorGenerator() {
    return anchorGenerator;
  }

  /**
   * The head's outputs on a batch and the anchors they refer to.
   *
   * @param batch the transformed images
   * @param predictions the head's outputs
   * @param anchors {@code (T, 4)} anchors in the batch's pixels
   */
  public record Outputs(ImageBatch batch, RetinaNetHead.Predictions predictions, NDArray anchors) {}

  /**
   * Transforms the images and runs the backbone and the head.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @param training whether this is a training pass (the backbone itself trains only if {@link
   *     Builder#optBackboneTrainingMode(boolean)} allows it)
   * @return the batch, the head's outputs and the anchors
   * @throws IllegalArgumentException if an image is malformed
   */
  public Outputs run(ParameterStore parameterStore, NDList images, boolean training) {
    ImageBatch batch = transform.apply(images);
    NDList features =
        backbone.forward(
            parameterStore, new NDList(batch.tensor()), training && backboneTrainingMode);
    RetinaNetHead.Predictions predictions = head.predict(parameterStore, features, training);
    List<Shape> shapes = new ArrayList<>(features.size());
    for (NDArray f : features) {
      shapes.add(f.getShape());
    }
    NDArray anchors =
        anchorGenerator.generate(
            batch.tensor().getManager(), shapes, batch.paddedHeight(), batch.paddedWidth());
    return new Outputs(batch, predictions, anchors);
  }

  /**
   * Detects objects.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @return the detections per image in input pixels
   */
  public List<Detections> detect(ParameterStore parameterStore, NDList images) {
    List<Detections> result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Outputs out = run(parameterStore, images, false);
      List<Detections> resized =
          postProcessor.process(out.predictions(), out.anchors(), out.batch().imageSizes());
      result = transform.postprocess(resized, out.batch());
      for (Detections d : result) {
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
      }
    }
    for (Detections d : result) {
      NDScope.register(d.boxes());
      NDScope.register(d.scores());
      NDScope.register(d.labels());
    }
    return result;
  }

  /**
   * Computes the two training losses.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @param targets {@link Targets} in input pixels
   * @return {@code loss_classification, loss_bbox_regression}, named
   * @throws IllegalArgumentException on invalid targets (naming the image and field)
   */
  public NDList losses(ParameterStore parameterStore, NDList images, NDList targets) {
    Targets.validate(targets, numClasses());
    NDList losses;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Outputs out = run(parameterStore, images, true);
      List<ImageTargets> resized = RcnnTransform.resizeTargets(Targets.unpad(targets), out.batch());
      RetinaNetLoss.Losses l = loss.compute(out.predictions(), out.anchors(), resized);
      l.classification().setName(LOSS_NAMES[0]);
      l.boxRegression().setName(LOSS_NAMES[1]);
      losses = new NDList(l.classification(), l.boxRegression());
      NDScope.unregister(losses);
    }
    for (NDArray array : losses) {
      NDScope.register(array);
    }
    return losses;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    if (training) {
      throw new IllegalArgumentException(
          "a training forward pass needs targets: call forward(parameterStore, images, targets,"
              + " params)");
    }
    return Detections.toNDList(detect(parameterStore, inputs));
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore, NDList data, NDList labels, PairList<String, Object> params) {
    if (labels == null) {
      return forwardInternal(parameterStore, data, false, params);
    }
    return losses(parameterStore, data, labels);
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    int n =
        inputShapes.length == 1 && inputShapes[0].dimension() == 4
            ? (int) inputShapes[0].get(0)
            : inputShapes.length;
    Shape[] out = new Shape[3 * n];
    for (int i = 0; i < n; i++) {
      out[3 * i] = new Shape(-1, 4);
      out[3 * i + 1] = new Shape(-1);
      out[3 * i + 2] = new Shape(-1);
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape first = inputShapes[0];
    int[] size =
        transform.resizedSize(
            (int) first.get(first.dimension() - 2), (int) first.get(first.dimension() - 1));
    int div = transform.getSizeDivisible();
    long padH = (long) Math.ceil(size[0] / (double) div) * div;
    long padW = (long) Math.ceil(size[1] / (double) div) * div;
    Shape image = new Shape(1, 3, padH, padW);
    backbone.initialize(manager, dataType, image);
    head.initialize(manager, dataType, backbone.getOutputShapes(new Shape[] {image}));
  }

  /** A builder of {@link RetinaNet}. */
  public static final class Builder {

    private Backbone backbone;
    private RetinaNetHead head;
    private AnchorGenerator anchorGenerator;
    private RcnnTransform transform = RcnnTransform.builder().build();
    private RetinaNetLoss loss = RetinaNetLoss.builder().build();
    private RetinaNetPostProcessor postProcessor = RetinaNetPostProcessor.builder().build();
    private boolean backboneTrainingMode = true;

    private Builder() {}

    /**
     * Sets the backbone (required); every level must have the head's channel count.
     *
     * @param backbone the feature extractor
     * @return this builder
     */
    public Builder setBackbone(Backbone backbone) {
      this.backbone = backbone;
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
     * Sets the anchor generator (required): one level per backbone level, as many anchors per
     * location as the head predicts.
     *
     * @param anchorGenerator the anchors
     * @return this builder
     */
    public Builder setAnchorGenerator(AnchorGenerator anchorGenerator) {
      this.anchorGenerator = anchorGenerator;
      return this;
    }

    /**
     * Sets the input transform (default 800 / 1333, ImageNet mean and std, padding to 32).
     *
     * @param transform the transform
     * @return this builder
     */
    public Builder optTransform(RcnnTransform transform) {
      this.transform = transform;
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
     * Sets the inference post-processing (default torchvision's).
     *
     * @param postProcessor the post-processor
     * @return this builder
     */
    public Builder optPostProcessor(RetinaNetPostProcessor postProcessor) {
      this.postProcessor = postProcessor;
      return this;
    }

    /**
     * Sets whether the backbone runs in training mode during training passes (default true). With
     * {@code false} its batch norms keep their running statistics; gradients still flow.
     *
     * @param backboneTrainingMode whether the backbone trains in training mode
     * @return this builder
     */
    public Builder optBackboneTrainingMode(boolean backboneTrainingMode) {
      this.backboneTrainingMode = backboneTrainingMode;
      return this;
    }

    /**
     * Builds the model.
     *
     * @return the model
     * @throws IllegalArgumentException if a part is missing or the parts disagree
     */
    public RetinaNet build() {
      if (backbone == null || head == null || anchorGenerator == null || transform == null) {
        throw new IllegalArgumentException(
            "backbone, head, anchorGenerator and transform are required; missing: "
                + (backbone == null ? "backbone " : "")
                + (head == null ? "head " : "")
                + (anchorGenerator == null ? "anchorGenerator " : "")
                + (transform == null ? "transform" : ""));
      }
      if (loss == null || postProcessor == null) {
        throw new IllegalArgumentException("loss and postProcessor must not be null");
      }
      if (anchorGenerator.numLevels() != backbone.numSources()) {
        throw new IllegalArgumentException(
            "the backbone has "
                + backbone.numSources()
                + " levels but the anchor generator "
                + anchorGenerator.numLevels());
      }
      for (int perLocation : anchorGenerator.numAnchorsPerLocation()) {
        if (perLocation != head.numAnchors()) {
          throw new IllegalArgumentException(
              "the head predicts "
                  + head.numAnchors()
                  + " anchors per location but the generator makes "
                  + perLocation);
        }
      }
      return new RetinaNet(this);
    }
  }
}
