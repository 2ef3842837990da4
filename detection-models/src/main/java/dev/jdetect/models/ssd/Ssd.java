package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.AnchorSource;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.models.weights.TorchvisionAliases;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A single-shot detector (Liu et al., SSD), the counterpart of torchvision's {@code SSD}: an input
 * {@link SsdTransform}, a {@link Backbone} giving one feature map per source, an {@link SsdHead},
 * anchors from an {@link AnchorSource}, an {@link SsdLoss} in training and an {@link SsdDecoder} in
 * inference. torchvision's SSD uses a {@link FixedSizeTransform}, a {@link DefaultBoxGenerator},
 * the {@link MultiBoxLoss} and the {@link SsdPostProcessor}; {@link TinySsd} configures the same
 * class with Dive into Deep Learning's parts.
 *
 * <p>Children are named {@code backbone} and {@code head}, so a torchvision SSD {@code state_dict}
 * maps onto the block (see {@link dev.jdetect.models.weights.WeightImport}); other naming schemes
 * plug in as {@link Builder#optTorchvisionAliases aliases}.
 *
 * <ul>
 *   <li>{@code forward(ps, images, false)}: images float32 RGB {@code (N, 3, H, W)} in {@code [0,
 *       1]} (as the transform accepts them: torchvision's resizes any {@code H, W} to the model
 *       size), or two or more {@code (3, H_i, W_i)} arrays of different sizes (each transformed on
 *       its own; images that reach the same model input size share one pass of the network),
 *       returns the {@link Detections#toNDList} form, boxes in the pixels of the given images.
 *   <li>{@code forward(ps, images, targets, params)} with targets in the {@link Targets} form
 *       (boxes in the pixels of the given images), returns {@code {loss_bbox_regression,
 *       loss_classification}}.
 * </ul>
 *
 * <p>A custom backbone plugs in like this:
 *
 * <pre>{@code
 * Backbone mine = ...; // outChannels() {64, 128}, two sources
 * DefaultBoxGenerator priors = DefaultBoxGenerator.builder()
 *     .setAspectRatios(List.of(new float[] {2}, new float[] {2, 3}))
 *     .build();
 * Ssd ssd = Ssd.builder()
 *     .setBackbone(mine)
 *     .setNumClasses(20)
 *     .setAnchorGenerator(priors)
 *     .setTransform(FixedSizeTransform.builder().setSize(320, 320).build())
 *     .build(); // head: a 3x3 conv per source, sized from mine.outChannels()
 * }</pre>
 */
public class Ssd extends AbstractBlock implements DetectionModel, TorchvisionAliases {

  private final Backbone backbone;
  private final SsdHead head;
  private final int numClasses;
  private final AnchorCache anchors;
  private final SsdTransform transform;
  private final SsdLoss loss;
  private final SsdDecoder postProcessor;
  private final Map<String, String> aliases;

  private Ssd(Builder b) {
    ConvolutionCheck.ensureCorrect();
    this.backbone = addChildBlock("backbone", b.backbone);
    this.head = addChildBlock("head", b.head);
    this.numClasses = b.numClasses;
    this.anchors = new AnchorCache(b.anchorGenerator);
    this.transform = b.transform;
    this.loss = b.loss;
    this.postProcessor = b.postProcessor;
    this.aliases = Map.copyOf(b.aliases);
  }

  /**
   * Creates a builder; backbone, number of classes, anchor generator and transform are required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@inheritDoc} */
  @Override
  public int numClasses() {
    return numClasses;
  }

  /** {@inheritDoc} */
  @Override
  public String[] lossNames() {
    return new String[] {MultiBoxLoss.BOX_LOSS, MultiBoxLoss.CLASS_LOSS};
  }

  /**
   * Returns the backbone.
   *
   * @return the backbone
   */
  public Backbone backbone() {
    return backbone;
  }

  /**
   * Returns the head.
   *
   * @return the head
   */
  public SsdHead head() {
    return head;
  }

  /**
   * Returns the anchor source.
   *
   * @return the anchor source
   */
  public AnchorSource anchorGenerator() {
    return anchors.source();
  }

  /**
   * Returns the inference post-processing.
   *
   * @return the post-processor
   */
  public SsdDecoder postProcessor() {
    return postProcessor;
  }

  /**
   * Returns the input transform.
   *
   * @return the transform
   */
  public SsdTransform transform() {
    return transform;
  }

  /**
   * Returns the training loss.
   *
   * @return the loss
   */
  public SsdLoss loss() {
    return loss;
  }

  /** {@inheritDoc} */
  @Override
  public Map<String, String> torchvisionAliases() {
    return aliases;
  }

  /**
   * Runs transform, backbone and head without loss or post-processing.
   *
   * @param parameterStore the parameter store
   * @param images float32 {@code (N, 3, H, W)} in {@code [0, 1]}
   * @param training whether in training mode
   * @return {@code {cls_logits (N, A, C + 1), bbox_regression (N, A, 4), anchors (A, 4)}}, the
   *     anchors xyxy in the pixels of the transformed (model-size) input, whose shape {@link
   *     SsdTransform#inputShape} gives
   * @throws IllegalArgumentException if the images are not a valid batch
   */
  public NDList forwardHeads(ParameterStore parameterStore, NDArray images, boolean training) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList out = heads(parameterStore, images, training);
      NDScope.unregister(out);
      return out;
    }
  }

  /** Transform, backbone, head and anchors; intermediates are left to the caller's scope. */
  private NDList heads(ParameterStore parameterStore, NDArray images, boolean training) {
    return headsOn(parameterStore, transform.apply(images), training, images.getManager());
  }

  /**
   * Backbone, head and anchors on an already transformed model input; the anchors go to {@code
   * target}.
   */
  NDList headsOn(ParameterStore parameterStore, NDArray x, boolean training, NDManager target) {
    NDList features = backbone.forward(parameterStore, new NDList(x), training);
    int sources = head.classificationHead().moduleList().size();
    if (features.size() != sources) {
      throw new IllegalStateException(
          "backbone returned " + features.size() + " sources but the head expects " + sources);
    }
    NDList out = head.forward(parameterStore, features, training);
    NDArray anchorsCopy = anchors.copy(parameterStore.getManager(), features, x, target);
    long a = out.get(0).getShape().get(1);
    if (anchorsCopy.getShape().get(0) != a) {
      throw new IllegalStateException(
          "the head predicts "
              + a
              + " boxes per image but the anchor generator made "
              + anchorsCopy.getShape().get(0)
              + "; anchors per location of generator and head differ");
    }
    anchorsCopy.setName("anchors");
    return new NDList(out.get(0), out.get(1), anchorsCopy);
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
          "training forward needs targets: call forward(parameterStore, images, targets, params)");
    }
    if (inputs.size() > 1) {
      return SsdImageList.detect(this, parameterStore, inputs);
    }
    NDArray images = inputs.isEmpty() ? null : inputs.get(0);
    if (images == null || images.getShape().dimension() != 4) {
      transform.validate(images); // throws; the full check runs in transform.apply
    }
    Shape s = images.getShape();
    Shape input = transform.inputShape(s);
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList raw = heads(parameterStore, images, false);
      List<Detections> dets =
          postProcessor.process(
              raw.get(0),
              raw.get(1),
              raw.get(2),
              (int) input.get(2),
              (int) input.get(3),
              (int) s.get(2),
              (int) s.get(3));
      NDList out = Detections.toNDList(dets);
      NDScope.unregister(out);
      return out;
    }
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore, NDList data, NDList labels, PairList<String, Object> params) {
    NDArray images = data.isEmpty() ? null : data.get(0);
    transform.validate(images);
    if (labels == null) {
      throw new IllegalArgumentException("targets must not be null in training");
    }
    Targets.validate(labels, numClasses);
    Shape s = images.getShape();
    int batch = (int) s.get(0);
    if (labels.get(0).getShape().get(0) != batch) {
      throw new IllegalArgumentException(
          "targets hold "
              + labels.get(0).getShape().get(0)
              + " images but the images batch has "
              + batch);
    }
    int h = (int) s.get(2);
    int w = (int) s.get(3);
    Shape input = transform.inputShape(s);
    int inputHeight = (int) input.get(2);
    int inputWidth = (int) input.get(3);
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList raw = heads(parameterStore, images, true);
      List<ImageTargets> targets = new ArrayList<>(batch);
      for (ImageTargets t : Targets.unpad(labels)) {
        NDArray boxes = t.boxes().toDevice(raw.get(0).getDevice(), false);
        if (h != inputHeight || w != inputWidth) {
          boxes = FixedSizeTransform.scaleBoxes(boxes, h, w, inputHeight, inputWidth);
        }
        targets.add(new ImageTargets(boxes, t.labels().toDevice(raw.get(0).getDevice(), false)));
      }
      NDList losses = loss.compute(raw.get(0), raw.get(1), raw.get(2), targets);
      NDScope.unregister(losses);
      return losses;
    }
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    long n =
        inputShapes.length == 1 && inputShapes[0].dimension() == 4
            ? inputShapes[0].get(0)
            : inputShapes.length;
    Shape[] out = new Shape[(int) n * 3];
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
    Shape in = inputShapes[0];
    if (in.dimension() != 4 || in.get(1) != 3) {
      throw new IllegalArgumentException("images must be (N, 3, H, W), got " + in);
    }
    Shape model = transform.inputShape(in);
    backbone.initialize(manager, dataType, model);
    head.initialize(manager, dataType, backbone.getOutputShapes(new Shape[] {model}));
  }

  /** Builder for {@link Ssd}. */
  public static final class Builder {
    private Backbone backbone;
    private SsdHead head;
    private int numClasses = -1;
    private AnchorSource anchorGenerator;
    private SsdTransform transform;
    private SsdLoss loss;
    private SsdDecoder postProcessor;
    private Map<String, String> aliases = Map.of();

    private Builder() {}

    /**
     * Sets the feature extractor (required).
     *
     * @param backbone the backbone
     * @return this builder
     */
    public Builder setBackbone(Backbone backbone) {
      this.backbone = backbone;
      return this;
    }

    /**
     * Sets the number of object classes, background excluded (required).
     *
     * @param numClasses {@code C >= 1}; the classifier has {@code C + 1} outputs
     * @return this builder
     */
    public Builder setNumClasses(int numClasses) {
      this.numClasses = numClasses;
      return this;
    }

    /**
     * Sets the anchor source (required), e.g. a {@link DefaultBoxGenerator}; one level per backbone
     * source.
     *
     * @param anchorGenerator the anchor source
     * @return this builder
     */
    public Builder setAnchorGenerator(AnchorSource anchorGenerator) {
      this.anchorGenerator = anchorGenerator;
      return this;
    }

    /**
     * Sets torchvision's fixed-size input transform (this or {@link #setTransform(SsdTransform)} is
     * required).
     *
     * @param transform the transform; it fixes the model input size
     * @return this builder
     */
    public Builder setTransform(FixedSizeTransform transform) {
      this.transform = SsdTransform.fixedSize(transform);
      return this;
    }

    /**
     * Sets the input transform (this or {@link #setTransform(FixedSizeTransform)} is required).
     *
     * @param transform the transform
     * @return this builder
     */
    public Builder setTransform(SsdTransform transform) {
      this.transform = transform;
      return this;
    }

    /**
     * Sets the head (default {@link SsdHead#conv3x3} sized from the backbone and anchor source).
     *
     * @param head the head
     * @return this builder
     */
    public Builder optHead(SsdHead head) {
      this.head = head;
      return this;
    }

    /**
     * Sets the training loss (default {@link MultiBoxLoss#builder()} settings).
     *
     * @param loss the loss
     * @return this builder
     */
    public Builder optLoss(SsdLoss loss) {
      this.loss = loss;
      return this;
    }

    /**
     * Sets the inference post-processing (default {@link SsdPostProcessor#builder()} settings).
     *
     * @param postProcessor the post-processor
     * @return this builder
     */
    public Builder optPostProcessor(SsdDecoder postProcessor) {
      this.postProcessor = postProcessor;
      return this;
    }

    /**
     * Renames parameters for weight import and export (default none): from the name {@link
     * dev.jdetect.models.weights.TorchvisionNames} derives from the block tree to the name in the
     * state dicts this model reads.
     *
     * @param aliases map from derived name to state-dict name
     * @return this builder
     */
    public Builder optTorchvisionAliases(Map<String, String> aliases) {
      if (aliases == null) {
        throw new IllegalArgumentException("aliases must not be null");
      }
      this.aliases = Map.copyOf(aliases);
      return this;
    }

    /**
     * Builds the detector.
     *
     * @return the detector
     * @throws IllegalArgumentException if a required part is missing or the parts disagree
     */
    public Ssd build() {
      if (backbone == null || anchorGenerator == null || transform == null) {
        throw new IllegalArgumentException(
            "backbone, anchorGenerator and transform are required (got "
                + (backbone == null ? "no backbone " : "")
                + (anchorGenerator == null ? "no anchorGenerator " : "")
                + (transform == null ? "no transform" : "")
                + ")");
      }
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
      }
      int[] channels = backbone.outChannels();
      int[] anchors = anchorGenerator.numAnchorsPerLocation();
      if (channels.length != anchors.length) {
        throw new IllegalArgumentException(
            "the backbone has "
                + channels.length
                + " sources but the anchor generator "
                + anchors.length
                + " levels");
      }
      if (head == null) {
        head = SsdHead.conv3x3(channels, anchors, numClasses + 1);
      } else if (head.classificationHead().numColumns() != numClasses + 1) {
        throw new IllegalArgumentException(
            "head predicts "
                + head.classificationHead().numColumns()
                + " classes, need numClasses + 1 = "
                + (numClasses + 1));
      }
      if (loss == null) {
        loss = MultiBoxLoss.builder().build();
      }
      if (postProcessor == null) {
        postProcessor = SsdPostProcessor.builder().build();
      }
      return new Ssd(this);
    }
  }
}
