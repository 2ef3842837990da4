package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import java.util.Collections;
import java.util.List;

/**
 * The second stage of Faster R-CNN (torchvision's {@code RoIHeads}, box branch): pool the features
 * of every proposal ({@link RoiPooler}), run the box head ({@code box_head}, e.g. {@link
 * TwoMlpHead}) and the predictor ({@code box_predictor}, {@link FastRcnnPredictor}).
 *
 * <p>Training: a {@link RoiSampler} picks the RoIs and their targets among the proposals and the
 * ground truth, and a {@link FastRcnnLoss} gives {@code loss_classifier} and {@code loss_box_reg}.
 * Inference: a {@link RoiPostProcessor} turns the predictions into detections. The defaults of the
 * three are torchvision's.
 *
 * <p>The plain {@code forward} takes already pooled features {@code (K, C, h, w)} and returns
 * {@code {class logits, box deltas}}; the full stage is {@link #run}.
 */
public final class RoiHeads extends AbstractBlock {

  private static final byte VERSION = 1;

  /**
   * The result of the RoI heads: detections in inference, losses in training.
   *
   * @param detections the detections per image in resized-image pixels (empty in training)
   * @param classifierLoss {@code loss_classifier}, or {@code null} outside training
   * @param boxLoss {@code loss_box_reg}, or {@code null} outside training
   */
  public record Output(List<Detections> detections, NDArray classifierLoss, NDArray boxLoss) {}

  private final RoiPooler pooler;
  private final Block boxHead;
  private final Block boxPredictor;
  private final int numClasses;
  private final RoiSampler sampler;
  private final FastRcnnLoss loss;
  private final RoiPostProcessor postProcessor;

  private RoiHeads(Builder b) {
    super(VERSION);
    this.pooler = b.pooler;
    this.numClasses = b.numClasses;
    this.boxHead = addChildBlock("box_head", b.boxHead);
    this.boxPredictor =
        addChildBlock(
            "box_predictor",
            b.boxPredictor == null ? new FastRcnnPredictor(numClasses) : b.boxPredictor);
    this.sampler = b.sampler;
    this.loss = b.loss;
    this.postProcessor = b.postProcessor;
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
   * Returns the number of object classes (background excluded).
   *
   * @return {@code C}
   */
  public int getNumClasses() {
    return numClasses;
  }

  /**
   * Returns the RoI pooler.
   *
   * @return the pooler
   */
  public RoiPooler getPooler() {
    return pooler;
  }

  /**
   * Returns the box head.
   *
   * @return the {@code box_head} block
   */
  public Block getBoxHead() {
    return boxHead;
  }

  /**
   * Returns the predictor.
   *
   * @return the {@code box_predictor} block
   */
  public Block getBoxPredictor() {
    return boxPredictor;
  }

  /**
   * Pools the features of the given boxes.
   *
   * @param features one map per level
   * @param boxesPerImage boxes per image, resized pixels
   * @param imageSizes {@code {h, w}} per image after resizing
   * @return {@code (sum K_i, C, h, w)} pooled features
   */
  public NDArray pool(NDList features, List<NDArray> boxesPerImage, List<int[]> imageSizes) {
    return pooler.pool(features, boxesPerImage, imageSizes);
  }

  /**
   * Runs the box head and the predictor on pooled features.
   *
   * @param parameterStore the parameter store
   * @param pooled {@code (K, C, h, w)} pooled features
   * @param training whether this is a training pass
   * @return {@code {class logits (K, C+1), box deltas (K, 4(C+1))}}
   */
  public NDList predict(ParameterStore parameterStore, NDArray pooled, boolean training) {
    NDList hidden = boxHead.forward(parameterStore, new NDList(pooled), training);
    return boxPredictor.forward(parameterStore, hidden, training);
  }

  /**
   * Runs the stage on the proposals of a batch.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param proposals one {@code (P_i, 4)} array per image, resized pixels
   * @param imageSizes {@code {h, w}} per image after resizing
   * @param training whether to compute losses (needs targets) instead of detections
   * @param targets the ground truth of every image in resized pixels, training only
   * @return the detections (inference) or losses (training)
   */
  public Output run(
      ParameterStore parameterStore,
      NDList features,
      List<NDArray> proposals,
      List<int[]> imageSizes,
      boolean training,
      List<ImageTargets> targets) {
    if (proposals.size() != imageSizes.size()) {
      throw new IllegalArgumentException(
          "proposals for "
              + proposals.size()
              + " images but "
              + imageSizes.size()
              + " image sizes");
    }
    if (training) {
      if (targets == null || targets.size() != proposals.size()) {
        throw new IllegalArgumentException(
            "training needs one target per image, got "
                + (targets == null ? "none" : targets.size() + " for " + proposals.size()));
      }
      FastRcnnLoss.Losses losses = losses(parameterStore, features, proposals, imageSizes, targets);
      return new Output(Collections.emptyList(), losses.classifier(), losses.boxRegression());
    }
    List<Detections> detections;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray pooled = pool(features, proposals, imageSizes);
      NDList out = predict(parameterStore, pooled, false);
      detections = postprocess(out.get(0), out.get(1), proposals, imageSizes);
      for (Detections d : detections) {
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
      }
    }
    RoiPostProcessor.registerAll(detections);
    return new Output(detections, null, null);
  }

  /**
   * Turns class logits and deltas of the proposals into detections with the {@link
   * RoiPostProcessor}.
   *
   * @param classLogits {@code (K, C+1)} logits of all images' proposals, in order
   * @param boxRegression {@code (K, 4(C+1))} deltas
   * @param proposals the proposals per image (their counts split the rows)
   * @param imageSizes {@code {h, w}} per image after resizing
   * @return the detections per image, resized pixels, best first
   */
  public List<Detections> postprocess(
      NDArray classLogits, NDArray boxRegression, List<NDArray> proposals, List<int[]> imageSizes) {
    return postProcessor.process(classLogits, boxRegression, proposals, imageSizes);
  }

  private FastRcnnLoss.Losses losses(
      ParameterStore parameterStore,
      NDList features,
      List<NDArray> proposals,
      List<int[]> imageSizes,
      List<ImageTargets> targets) {
    FastRcnnLoss.Losses losses;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      RoiSampler.Samples samples = sampler.sample(proposals, targets);
      NDArray pooled = pool(features, samples.boxes(), imageSizes);
      NDList out = predict(parameterStore, pooled, true);
      losses = loss.compute(out.get(0), out.get(1), samples);
      NDScope.unregister(losses.classifier(), losses.boxRegression());
    }
    NDScope.register(losses.classifier());
    NDScope.register(losses.boxRegression());
    return losses;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    return predict(parameterStore, inputs.singletonOrThrow(), training);
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    long k = inputShapes[0].get(0);
    return new Shape[] {new Shape(k, numClasses + 1L), new Shape(k, 4L * (numClasses + 1))};
  }

  /**
   * Initialises the head and predictor for pooled features of the given shape.
   *
   * @param manager the manager of the parameters
   * @param dataType the parameter type
   * @param inputShapes {@code (K, C, h, w)} pooled feature shape
   */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    boxHead.initialize(manager, dataType, inputShapes[0]);
    Shape[] hidden = boxHead.getOutputShapes(new Shape[] {inputShapes[0]});
    boxPredictor.initialize(manager, dataType, hidden);
  }

  /** A builder of {@link RoiHeads} with torchvision's defaults. */
  public static final class Builder {

    private RoiPooler pooler;
    private int numClasses = -1;
    private Block boxHead;
    private Block boxPredictor;
    private RoiSampler sampler = RoiSampler.builder().build();
    private FastRcnnLoss loss = FastRcnnLoss.builder().build();
    private RoiPostProcessor postProcessor = RoiPostProcessor.builder().build();

    private Builder() {}

    /**
     * Sets the RoI pooler (required).
     *
     * @param pooler the pooler
     * @return this builder
     */
    public Builder setPooler(RoiPooler pooler) {
      this.pooler = pooler;
      return this;
    }

    /**
     * Sets the number of object classes, background excluded (required).
     *
     * @param numClasses {@code C >= 1}
     * @return this builder
     */
    public Builder setNumClasses(int numClasses) {
      this.numClasses = numClasses;
      return this;
    }

    /**
     * Sets the box head (default {@link TwoMlpHead} with 1024 units).
     *
     * @param boxHead a block taking {@code (K, C, h, w)} and returning {@code (K, D)}
     * @return this builder
     */
    public Builder optBoxHead(Block boxHead) {
      this.boxHead = boxHead;
      return this;
    }

    /**
     * Sets the predictor (default a {@link FastRcnnPredictor} for the classes).
     *
     * @param boxPredictor a block returning {@code {logits (K, C+1), deltas (K, 4(C+1))}}
     * @return this builder
     */
    public Builder optBoxPredictor(Block boxPredictor) {
      this.boxPredictor = boxPredictor;
      return this;
    }

    /**
     * Sets how training RoIs and their targets are chosen.
     *
     * @param sampler default {@code RoiSampler.builder().build()}
     * @return this builder
     */
    public Builder optSampler(RoiSampler sampler) {
      this.sampler = sampler;
      return this;
    }

    /**
     * Sets the training loss.
     *
     * @param loss default {@code FastRcnnLoss.builder().build()}
     * @return this builder
     */
    public Builder optLoss(FastRcnnLoss loss) {
      this.loss = loss;
      return this;
    }

    /**
     * Sets how predictions become detections.
     *
     * @param postProcessor default {@code RoiPostProcessor.builder().build()}
     * @return this builder
     */
    public Builder optPostProcessor(RoiPostProcessor postProcessor) {
      this.postProcessor = postProcessor;
      return this;
    }

    /**
     * Builds the RoI heads.
     *
     * @return the RoI heads
     * @throws IllegalArgumentException on missing settings, or if the post-processor decodes with
     *     another box coder than the sampler encodes with
     */
    public RoiHeads build() {
      if (pooler == null) {
        throw new IllegalArgumentException("a RoiPooler is required");
      }
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
      }
      BoxCoders.checkSame(postProcessor.getBoxCoder(), sampler.getBoxCoder(), "RoI heads");
      if (boxHead == null) {
        boxHead = TwoMlpHead.builder().build();
      }
      return new RoiHeads(this);
    }
  }
}
