package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.Detections;
import dev.jdetect.models.DetectorBlock;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RcnnTransform;
import java.util.ArrayList;
import java.util.List;

/**
 * A single-stage detector on a feature pyramid (torchvision's RetinaNet and FCOS): {@link
 * RcnnTransform} → {@link Backbone} → a head shared by every level, with anchors (or points) from
 * an {@link AnchorGenerator}; the subclass turns the head's outputs into losses or detections.
 *
 * <p>Children are named {@code backbone} and {@code head}, so the parameters carry torchvision's
 * {@code state_dict} names and load with {@code dev.jdetect.models.weights.WeightImport}.
 *
 * <p>Inputs are float32 RGB images in {@code [0, 1]}: one {@code (N, 3, H, W)} array or several
 * {@code (3, H_i, W_i)} arrays. {@code forward(ps, images, false)} returns the {@link
 * Detections#toNDList} form (boxes in input pixels); {@code forward(ps, images, targets, params)}
 * with {@link Targets} in input pixels returns the losses named by {@link #lossNames()}. Images
 * without objects are legal training samples.
 */
public abstract class DenseDetector extends DetectorBlock {

  private static final byte VERSION = 1;

  private final RcnnTransform transform;
  private final Backbone backbone;
  private final Block head;
  private final AnchorGenerator anchorGenerator;
  private final boolean backboneTrainingMode;
  private final int numLogits;
  private final String[] lossNames;

  /**
   * Creates the detector's common parts.
   *
   * @param builder the transform, backbone, anchors and backbone training mode
   * @param head the head block (a child named {@code head})
   * @param numLogits the class logits the head predicts per anchor, background included
   * @param lossNames the names of the training losses, in order
   */
  protected DenseDetector(BaseBuilder<?> builder, Block head, int numLogits, String... lossNames) {
    super(VERSION);
    ConvolutionCheck.ensureCorrect();
    this.transform = builder.transform;
    this.anchorGenerator = builder.anchorGenerator;
    this.backboneTrainingMode = builder.backboneTrainingMode;
    this.backbone = addChildBlock("backbone", builder.backbone);
    this.head = addChildBlock("head", head);
    this.numLogits = numLogits;
    this.lossNames = lossNames.clone();
  }

  /** {@inheritDoc} */
  @Override
  public int numClasses() {
    return numLogits - 1;
  }

  /** {@inheritDoc} */
  @Override
  public String[] lossNames() {
    return lossNames.clone();
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
   * Returns the anchor generator.
   *
   * @return the anchor generator
   */
  public AnchorGenerator getAnchorGenerator() {
    return anchorGenerator;
  }

  /**
   * Normalises, resizes and pads images, runs the backbone and makes the anchors.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @param training whether this is a training pass (the backbone itself trains only if {@link
   *     BaseBuilder#optBackboneTrainingMode(boolean)} allows it)
   * @return the batch, the pyramid levels and the anchors
   * @throws IllegalArgumentException if an image is malformed
   */
  public Features features(ParameterStore parameterStore, NDList images, boolean training) {
    ImageBatch batch = transform.apply(images);
    NDList levels =
        backbone.forward(
            parameterStore, new NDList(batch.tensor()), training && backboneTrainingMode);
    List<Shape> shapes = new ArrayList<>(levels.size());
    for (NDArray level : levels) {
      shapes.add(level.getShape());
    }
    NDArray anchors =
        anchorGenerator.generate(
            batch.tensor().getManager(), shapes, batch.paddedHeight(), batch.paddedWidth());
    return new Features(batch, levels, anchors);
  }

  /**
   * A transformed batch with its pyramid levels and anchors.
   *
   * @param batch the transformed images
   * @param levels one {@code (N, C, H_l, W_l)} map per level
   * @param anchors {@code (T, 4)} anchors in the batch's pixels, the same for every image
   */
  public record Features(ImageBatch batch, NDList levels, NDArray anchors) {}

  /**
   * Turns the pyramid levels into detections in the pixels of the transformed batch.
   *
   * @param parameterStore the parameter store
   * @param features the batch, levels and anchors
   * @return the detections per image, in resized pixels
   */
  protected abstract List<Detections> detections(ParameterStore parameterStore, Features features);

  /**
   * Computes the training losses, in the order of {@link #lossNames()}.
   *
   * @param parameterStore the parameter store
   * @param features the batch, levels and anchors
   * @param targets one target per image, in the pixels of the transformed batch
   * @return the scalar losses
   */
  protected abstract NDList trainingLosses(
      ParameterStore parameterStore, Features features, List<ImageTargets> targets);

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
      Features features = features(parameterStore, images, false);
      result = transform.postprocess(detections(parameterStore, features), features.batch());
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
   * Computes the training losses.
   *
   * @param parameterStore the parameter store
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @param targets {@link Targets} in input pixels
   * @return the losses, named as {@link #lossNames()}
   * @throws IllegalArgumentException on invalid targets (naming the image and field)
   */
  @Override
  public NDList losses(ParameterStore parameterStore, NDList images, NDList targets) {
    Targets.validate(targets, numClasses());
    String[] names = lossNames();
    NDList losses;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Features features = features(parameterStore, images, true);
      List<ImageTargets> resized =
          RcnnTransform.resizeTargets(Targets.unpad(targets), features.batch());
      losses = trainingLosses(parameterStore, features, resized);
      for (int i = 0; i < losses.size(); i++) {
        losses.get(i).setName(names[i]);
      }
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

  /**
   * The settings every dense detector shares.
   *
   * @param <B> the concrete builder
   */
  public abstract static class BaseBuilder<B extends BaseBuilder<B>> {

    private Backbone backbone;
    private AnchorGenerator anchorGenerator;
    private RcnnTransform transform = RcnnTransform.builder().build();
    private boolean backboneTrainingMode = true;

    /** Creates a builder with torchvision's transform (800 / 1333). */
    protected BaseBuilder() {}

    /**
     * Returns this builder as its concrete type.
     *
     * @return this
     */
    protected abstract B self();

    /**
     * Sets the backbone (required); every level must have the head's channel count.
     *
     * @param backbone the feature extractor
     * @return this builder
     */
    public B setBackbone(Backbone backbone) {
      this.backbone = backbone;
      return self();
    }

    /**
     * Sets the anchor generator (required): one level per backbone level, as many anchors per
     * location as the head predicts.
     *
     * @param anchorGenerator the anchors
     * @return this builder
     */
    public B setAnchorGenerator(AnchorGenerator anchorGenerator) {
      this.anchorGenerator = anchorGenerator;
      return self();
    }

    /**
     * Sets the input transform (default 800 / 1333, ImageNet mean and std, padding to 32).
     *
     * @param transform the transform
     * @return this builder
     */
    public B optTransform(RcnnTransform transform) {
      this.transform = transform;
      return self();
    }

    /**
     * Sets whether the backbone runs in training mode during training passes (default true). With
     * {@code false} its batch norms keep their running statistics; gradients still flow.
     *
     * @param backboneTrainingMode whether the backbone trains in training mode
     * @return this builder
     */
    public B optBackboneTrainingMode(boolean backboneTrainingMode) {
      this.backboneTrainingMode = backboneTrainingMode;
      return self();
    }

    /**
     * Checks the common parts against the head's anchors per location.
     *
     * @param head the head's name, for messages
     * @param headAnchors the anchors per location the head predicts, or -1 if the head is missing
     * @throws IllegalArgumentException if a part is missing or the parts disagree
     */
    protected void validate(String head, int headAnchors) {
      if (backbone == null || headAnchors < 0 || anchorGenerator == null || transform == null) {
        throw new IllegalArgumentException(
            "backbone, head, anchorGenerator and transform are required; missing: "
                + (backbone == null ? "backbone " : "")
                + (headAnchors < 0 ? head + " " : "")
                + (anchorGenerator == null ? "anchorGenerator " : "")
                + (transform == null ? "transform" : ""));
      }
      if (anchorGenerator.numLevels() != backbone.numSources()) {
        throw new IllegalArgumentException(
            "the backbone has "
                + backbone.numSources()
                + " levels but the anchor generator "
                + anchorGenerator.numLevels());
      }
      for (int perLocation : anchorGenerator.numAnchorsPerLocation()) {
        if (perLocation != headAnchors) {
          throw new IllegalArgumentException(
              "the "
                  + head
                  + " predicts "
                  + headAnchors
                  + " anchors per location but the generator makes "
                  + perLocation);
        }
      }
    }
  }
}
