package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.Detections;
import dev.jdetect.models.DetectorBlock;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import java.util.List;

/**
 * Faster R-CNN (torchvision's {@code FasterRCNN} / {@code GeneralizedRCNN}): {@link RcnnTransform}
 * → {@link Backbone} → {@link RegionProposalNetwork} → {@link RoiHeads} → detections mapped back to
 * the caller's pixels.
 *
 * <p>Children are named {@code backbone}, {@code rpn} and {@code roi_heads}, so the block's
 * parameters carry torchvision's {@code state_dict} names ({@code rpn.head.conv.0.0.weight}, {@code
 * roi_heads.box_head.fc6.weight}, {@code roi_heads.box_predictor.cls_score.bias}, ...) and load
 * with {@code dev.jdetect.models.weights.WeightImport}.
 *
 * <p>Inputs are float32 RGB images in {@code [0, 1]}: one {@code (N, 3, H, W)} array or several
 * {@code (3, H_i, W_i)} arrays. {@code forward(ps, images, false)} returns the {@link
 * Detections#toNDList} form (boxes in input pixels). {@code forward(ps, images, targets, params)}
 * with {@link Targets} in input pixels returns the four losses {@code loss_classifier}, {@code
 * loss_box_reg}, {@code loss_objectness}, {@code loss_rpn_box_reg}. Images without objects are
 * legal training samples. Build with {@link #builder()} or one of {@link FasterRcnnModels}.
 */
public final class FasterRcnn extends DetectorBlock {

  private static final byte VERSION = 1;
  private static final String[] LOSS_NAMES = {
    "loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"
  };

  private final RcnnTransform transform;
  private final Backbone backbone;
  private final RegionProposalNetwork rpn;
  private final RoiHeads roiHeads;
  private final int maxStride;
  private final boolean backboneTrainingMode;

  private FasterRcnn(Builder b) {
    super(VERSION);
    ConvolutionCheck.ensureCorrect();
    this.transform = b.transform;
    this.backboneTrainingMode = b.backboneTrainingMode;
    this.backbone = addChildBlock("backbone", b.backbone);
    this.rpn = addChildBlock("rpn", b.rpn);
    this.roiHeads = addChildBlock("roi_heads", b.roiHeads);
    int stride = 1;
    for (int s : backbone.strides()) {
      stride = Math.max(stride, s);
    }
    this.maxStride = stride;
  }

  /**
   * Returns a builder for a Faster R-CNN on any backbone.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@inheritDoc} */
  @Override
  public int numClasses() {
    return roiHeads.getNumClasses();
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
   * Returns the region proposal network.
   *
   * @return the RPN
   */
  public RegionProposalNetwork getRpn() {
    return rpn;
  }

  /**
   * Returns the RoI heads.
   *
   * @return the RoI heads
   */
  public RoiHeads getRoiHeads() {
    return roiHeads;
  }

  /**
   * Normalises, resizes and pads images, checking that every resized image covers at least one cell
   * of the coarsest feature map.
   *
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @return the batch
   * @throws IllegalArgumentException if an image is malformed or smaller than the stride
   */
  public ImageBatch transform(NDList images) {
    return transform.apply(images, maxStride);
  }

  /**
   * Runs the backbone on a transformed batch.
   *
   * @param parameterStore the parameter store
   * @param batch the batch
   * @param training whether this is a training pass (the backbone itself runs in training mode only
   *     if {@link Builder#optBackboneTrainingMode(boolean)} allows it)
   * @return one feature map per source
   */
  public NDList features(ParameterStore parameterStore, ImageBatch batch, boolean training) {
    boolean mode = training && backboneTrainingMode;
    return backbone.forward(parameterStore, new NDList(batch.tensor()), mode);
  }

  /**
   * Detects objects.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @return the detections per image in input pixels
   */
  @Override
  public List<Detections> detect(ParameterStore parameterStore, NDList images) {
    List<Detections> result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      ImageBatch batch = transform(images);
      NDList features = features(parameterStore, batch, false);
      RegionProposalNetwork.Output proposals =
          rpn.propose(parameterStore, features, batch, false, null);
      RoiHeads.Output heads =
          roiHeads.run(
              parameterStore, features, proposals.proposals(), batch.imageSizes(), false, null);
      result = transform.postprocess(heads.detections(), batch);
      for (Detections d : result) {
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
      }
    }
    RoiPostProcessor.registerAll(result);
    return result;
  }

  /**
   * Computes the four training losses.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @param targets {@link Targets} in input pixels
   * @return {@code loss_classifier, loss_box_reg, loss_objectness, loss_rpn_box_reg}, named
   * @throws IllegalArgumentException on invalid targets (naming the image and field)
   */
  @Override
  public NDList losses(ParameterStore parameterStore, NDList images, NDList targets) {
    Targets.validate(targets, numClasses());
    NDList losses;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      ImageBatch batch = transform(images);
      List<ImageTargets> resized = RcnnTransform.resizeTargets(Targets.unpad(targets), batch);
      NDList features = features(parameterStore, batch, true);
      RegionProposalNetwork.Output proposals =
          rpn.propose(parameterStore, features, batch, true, resized);
      RoiHeads.Output heads =
          roiHeads.run(
              parameterStore, features, proposals.proposals(), batch.imageSizes(), true, resized);
      losses =
          new NDList(
              heads.classifierLoss(),
              heads.boxLoss(),
              proposals.objectnessLoss(),
              proposals.boxLoss());
      NDScope.unregister(losses);
    }
    for (NDArray loss : losses) {
      NDScope.register(loss);
    }
    return losses;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape first = inputShapes[0];
    long h = first.get(first.dimension() - 2);
    long w = first.get(first.dimension() - 1);
    int[] size = transform.resizedSize((int) h, (int) w);
    int div = transform.getSizeDivisible();
    long padH = (long) Math.ceil(size[0] / (double) div) * div;
    long padW = (long) Math.ceil(size[1] / (double) div) * div;
    Shape image = new Shape(1, 3, Math.max(padH, maxStride), Math.max(padW, maxStride));
    backbone.initialize(manager, dataType, image);
    Shape[] features = backbone.getOutputShapes(new Shape[] {image});
    Shape[] rpnInputs = new Shape[features.length + 2];
    System.arraycopy(features, 0, rpnInputs, 0, features.length);
    rpnInputs[features.length] = new Shape(1, 2);
    rpnInputs[features.length + 1] = new Shape(2);
    rpn.initialize(manager, dataType, rpnInputs);
    int[] pooled = roiHeads.getPooler().outputSize();
    roiHeads.initialize(manager, dataType, new Shape(1, features[0].get(1), pooled[0], pooled[1]));
  }

  /** A builder of {@link FasterRcnn} for any {@link Backbone}. */
  public static final class Builder {

    private Backbone backbone;
    private RcnnTransform transform = RcnnTransform.builder().build();
    private RegionProposalNetwork rpn;
    private RoiHeads roiHeads;
    private boolean backboneTrainingMode = true;

    private Builder() {}

    /**
     * Sets whether the backbone runs in training mode during training passes. With {@code false}
     * its batch norms keep using their running statistics (like torchvision's frozen norms for
     * detection fine-tuning with small batches); gradients still flow to its weights.
     *
     * @param backboneTrainingMode default true
     * @return this builder
     */
    public Builder optBackboneTrainingMode(boolean backboneTrainingMode) {
      this.backboneTrainingMode = backboneTrainingMode;
      return this;
    }

    /**
     * Sets the backbone (required).
     *
     * @param backbone the feature extractor
     * @return this builder
     */
    public Builder setBackbone(Backbone backbone) {
      this.backbone = backbone;
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
     * Sets the RPN (required); its head must match the backbone's channels.
     *
     * @param rpn the region proposal network
     * @return this builder
     */
    public Builder setRpn(RegionProposalNetwork rpn) {
      this.rpn = rpn;
      return this;
    }

    /**
     * Sets the RoI heads (required).
     *
     * @param roiHeads the second stage
     * @return this builder
     */
    public Builder setRoiHeads(RoiHeads roiHeads) {
      this.roiHeads = roiHeads;
      return this;
    }

    /**
     * Builds the model.
     *
     * @return the model
     * @throws IllegalArgumentException if a part is missing or the parts disagree
     */
    public FasterRcnn build() {
      if (backbone == null || rpn == null || roiHeads == null || transform == null) {
        throw new IllegalArgumentException(
            "backbone, rpn, roiHeads and transform are required; missing: "
                + (backbone == null ? "backbone " : "")
                + (rpn == null ? "rpn " : "")
                + (roiHeads == null ? "roiHeads " : "")
                + (transform == null ? "transform" : ""));
      }
      int sources = backbone.numSources();
      if (rpn.getAnchorGenerator().numLevels() != sources) {
        throw new IllegalArgumentException(
            "the backbone has "
                + sources
                + " feature sources but the anchor generator "
                + rpn.getAnchorGenerator().numLevels()
                + " levels");
      }
      return new FasterRcnn(this);
    }
  }
}
