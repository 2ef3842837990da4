package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The second stage of Faster R-CNN (torchvision's {@code RoIHeads}, box branch): pool the features
 * of every proposal ({@link RoiPooler}), run the box head ({@code box_head}, e.g. {@link
 * TwoMlpHead}) and the predictor ({@code box_predictor}, {@link FastRcnnPredictor}).
 *
 * <p>Training: the ground-truth boxes are appended to the proposals, proposals are matched to the
 * ground truth ({@link Matcher} 0.5 / 0.5), a {@link BalancedPositiveNegativeSampler} picks 512 per
 * image with 25% positives, and the losses are the cross-entropy of the sampled RoIs ({@code
 * loss_classifier}) and the smooth-L1 (beta 1/9) of the ground-truth class's deltas of the
 * positives divided by the number of sampled RoIs ({@code loss_box_reg}); deltas are encoded with
 * weights (10, 10, 5, 5).
 *
 * <p>Inference: softmax, class-specific decoding, clipping, score {@code > 0.05}, boxes smaller
 * than 1e-2 removed, NMS 0.5 per class, best 100 per image.
 *
 * <p>The plain {@code forward} takes already pooled features {@code (K, C, h, w)} and returns
 * {@code {class logits, box deltas}}; the full stage is {@link #run}.
 */
public final class RoiHeads extends AbstractBlock {

  private static final byte VERSION = 1;

  private final RoiPooler pooler;
  private final Block boxHead;
  private final Block boxPredictor;
  private final int numClasses;
  private final BoxCoder boxCoder;
  private final Matcher matcher;
  private final BalancedPositiveNegativeSampler sampler;
  private final float scoreThreshold;
  private final float nmsThreshold;
  private final int detectionsPerImage;
  private final float minSize;
  private final float boxLossBeta;

  private RoiHeads(Builder b) {
    super(VERSION);
    this.pooler = b.pooler;
    this.numClasses = b.numClasses;
    this.boxHead = addChildBlock("box_head", b.boxHead);
    this.boxPredictor =
        addChildBlock(
            "box_predictor",
            b.boxPredictor == null ? new FastRcnnPredictor(numClasses) : b.boxPredictor);
    this.boxCoder = b.boxCoder;
    this.matcher = b.matcher;
    this.sampler = b.sampler;
    this.scoreThreshold = b.scoreThreshold;
    this.nmsThreshold = b.nmsThreshold;
    this.detectionsPerImage = b.detectionsPerImage;
    this.minSize = b.minSize;
    this.boxLossBeta = b.boxLossBeta;
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

  /** The result of the RoI heads: detections in inference, losses in training. */
  public static final class Output {

    private final List<Detections> detections;
    private final NDArray classifierLoss;
    private final NDArray boxLoss;

    Output(List<Detections> detections, NDArray classifierLoss, NDArray boxLoss) {
      this.detections = detections;
      this.classifierLoss = classifierLoss;
      this.boxLoss = boxLoss;
    }

    /**
     * Returns the detections per image in resized-image pixels.
     *
     * @return the detections (empty list in training)
     */
    public List<Detections> detections() {
      return detections;
    }

    /**
     * Returns {@code loss_classifier}.
     *
     * @return the scalar loss, or {@code null} outside training
     */
    public NDArray classifierLoss() {
      return classifierLoss;
    }

    /**
     * Returns {@code loss_box_reg}.
     *
     * @return the scalar loss, or {@code null} outside training
     */
    public NDArray boxLoss() {
      return boxLoss;
    }
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
   * @param targets per image {@code {boxes (G_i, 4), labels (G_i)}} in resized pixels, training
   *     only
   * @return the detections (inference) or losses (training)
   */
  public Output run(
      ParameterStore parameterStore,
      NDList features,
      List<NDArray> proposals,
      List<int[]> imageSizes,
      boolean training,
      List<NDArray[]> targets) {
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
      NDArray[] losses = losses(parameterStore, features, proposals, imageSizes, targets);
      return new Output(Collections.emptyList(), losses[0], losses[1]);
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
    registerAll(detections);
    return new Output(detections, null, null);
  }

  /**
   * Turns class logits and deltas of the proposals into detections (torchvision's {@code
   * postprocess_detections}).
   *
   * @param classLogits {@code (K, C+1)} logits of all images' proposals, in order
   * @param boxRegression {@code (K, 4(C+1))} deltas
   * @param proposals the proposals per image (their counts split the rows)
   * @param imageSizes {@code {h, w}} per image after resizing
   * @return the detections per image, resized pixels, best first
   */
  public List<Detections> postprocess(
      NDArray classLogits, NDArray boxRegression, List<NDArray> proposals, List<int[]> imageSizes) {
    NDManager manager = classLogits.getManager();
    int classes = numClasses + 1;
    List<Detections> out = new ArrayList<>(proposals.size());
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray allProposals =
          proposals.size() == 1 ? proposals.get(0) : NDArrays.concat(new NDList(proposals), 0);
      NDArray decoded = boxCoder.decode(boxRegression, allProposals);
      long k = decoded.getShape().get(0);
      decoded = decoded.reshape(k, classes, 4);
      NDArray probabilities = classLogits.softmax(-1);
      long[] classIds = new long[numClasses];
      for (int c = 0; c < numClasses; c++) {
        classIds[c] = c + 1;
      }
      NDArray classRow = manager.create(classIds).toDevice(classLogits.getDevice(), false);
      long offset = 0;
      for (int i = 0; i < proposals.size(); i++) {
        long n = proposals.get(i).getShape().get(0);
        int[] size = imageSizes.get(i);
        NDArray boxes = decoded.get(offset + ":" + (offset + n));
        NDArray scores = probabilities.get(offset + ":" + (offset + n));
        offset += n;
        boxes = Boxes.clip(boxes, size[0], size[1]);
        boxes = boxes.get(":, 1:, :").reshape(-1, 4);
        scores = scores.get(":, 1:").reshape(-1);
        NDArray labels = classRow.expandDims(0).broadcast(new Shape(n, numClasses)).reshape(-1);
        NDArray keep = scores.gt(scoreThreshold).nonzero().squeeze(1);
        boxes = boxes.get(keep);
        scores = scores.get(keep);
        labels = labels.get(keep);
        keep = Boxes.removeSmall(boxes, minSize);
        boxes = boxes.get(keep);
        scores = scores.get(keep);
        labels = labels.get(keep);
        keep = Nms.batchedNms(boxes, scores, labels, nmsThreshold);
        if (keep.getShape().get(0) > detectionsPerImage) {
          keep = keep.get(":" + detectionsPerImage);
        }
        Detections d = new Detections(boxes.get(keep), scores.get(keep), labels.get(keep));
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
        out.add(d);
      }
    }
    registerAll(out);
    return out;
  }

  /** Hands detections made inside a finished scope to the caller's scope, if any. */
  static void registerAll(List<Detections> detections) {
    for (Detections d : detections) {
      NDScope.register(d.boxes());
      NDScope.register(d.scores());
      NDScope.register(d.labels());
    }
  }

  private NDArray[] losses(
      ParameterStore parameterStore,
      NDList features,
      List<NDArray> proposals,
      List<int[]> imageSizes,
      List<NDArray[]> targets) {
    NDArray classifierLoss;
    NDArray boxLoss;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      int numImages = proposals.size();
      List<NDArray> sampledBoxes = new ArrayList<>(numImages);
      NDList sampledLabels = new NDList(numImages);
      NDList positiveRows = new NDList();
      NDList positiveClasses = new NDList();
      NDList regressionTargets = new NDList();
      long offset = 0;
      for (int i = 0; i < numImages; i++) {
        NDArray gt = targets.get(i)[0];
        NDArray gtLabels = targets.get(i)[1].toType(DataType.INT64, false);
        NDArray props = proposals.get(i).stopGradient();
        long numGt = gt.getShape().get(0);
        if (numGt > 0) {
          props = props.concat(gt.toType(props.getDataType(), false), 0);
        }
        long p = props.getShape().get(0);
        NDArray labels;
        NDArray clamped;
        if (numGt == 0) {
          labels = props.getManager().zeros(new Shape(p), DataType.INT64, props.getDevice());
          clamped = labels;
        } else {
          NDArray matched = matcher.match(Boxes.iou(gt, props));
          clamped = matched.maximum(0);
          labels = gtLabels.get(clamped);
          labels =
              NDArrays.where(matched.eq(Matcher.BELOW_LOW_THRESHOLD), labels.zerosLike(), labels);
          labels =
              NDArrays.where(
                  matched.eq(Matcher.BETWEEN_THRESHOLDS), labels.onesLike().neg(), labels);
        }
        NDArray[] masks = sampler.sample(labels);
        NDArray sampledIdx = masks[0].logicalOr(masks[1]).nonzero().squeeze(1);
        NDArray imageProps = props.get(sampledIdx);
        NDArray imageLabels = labels.get(sampledIdx);
        NDArray imageMatched = clamped.get(sampledIdx);
        sampledBoxes.add(imageProps);
        sampledLabels.add(imageLabels);
        NDArray pos = imageLabels.gt(0).nonzero().squeeze(1);
        long numPos = pos.getShape().get(0);
        if (numPos > 0) {
          NDArray matchedGt = gt.get(imageMatched.get(pos));
          regressionTargets.add(boxCoder.encode(matchedGt, imageProps.get(pos)));
          positiveRows.add(pos.add(offset));
          positiveClasses.add(imageLabels.get(pos));
        }
        offset += sampledIdx.getShape().get(0);
      }
      long sampled = offset;
      NDArray pooled = pool(features, sampledBoxes, imageSizes);
      NDList out = predict(parameterStore, pooled, true);
      NDArray classLogits = out.get(0);
      NDArray boxRegression = out.get(1);
      NDArray labels = NDArrays.concat(sampledLabels, 0);
      if (sampled == 0) {
        classifierLoss = Scalars.mul(classLogits.sum(), 0f).abs();
        boxLoss = Scalars.mul(boxRegression.sum(), 0f).abs();
      } else {
        classifierLoss =
            Scalars.div(DetectionLosses.crossEntropy(classLogits, labels).sum(), (float) sampled);
        if (positiveRows.isEmpty()) {
          boxLoss = Scalars.mul(boxRegression.sum(), 0f).abs();
        } else {
          int classes = numClasses + 1;
          NDArray rows = NDArrays.concat(positiveRows, 0);
          NDArray cls = NDArrays.concat(positiveClasses, 0);
          NDArray flat = boxRegression.reshape(sampled * classes, 4);
          NDArray picked = flat.get(rows.mul(classes).add(cls));
          NDArray target = NDArrays.concat(regressionTargets, 0);
          boxLoss =
              Scalars.div(
                  DetectionLosses.smoothL1(picked, target, boxLossBeta).sum(), (float) sampled);
        }
      }
      classifierLoss.setName("loss_classifier");
      boxLoss.setName("loss_box_reg");
      NDScope.unregister(classifierLoss, boxLoss);
    }
    NDScope.register(classifierLoss);
    NDScope.register(boxLoss);
    return new NDArray[] {classifierLoss, boxLoss};
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
    private Block boxHead;
    private Block boxPredictor;
    private int numClasses = -1;
    private BoxCoder boxCoder = BoxCoder.builder().optWeights(10f, 10f, 5f, 5f).build();
    private Matcher matcher =
        Matcher.builder()
            .setHighThreshold(0.5f)
            .setLowThreshold(0.5f)
            .setAllowLowQualityMatches(false)
            .build();
    private BalancedPositiveNegativeSampler sampler =
        BalancedPositiveNegativeSampler.builder()
            .setBatchSizePerImage(512)
            .setPositiveFraction(0.25)
            .build();
    private float scoreThreshold = 0.05f;
    private float nmsThreshold = 0.5f;
    private int detectionsPerImage = 100;
    private float minSize = 1e-2f;
    private float boxLossBeta = 1f / 9;

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
     * Sets the box head (default {@link TwoMlpHead} with 1024 units).
     *
     * @param boxHead a block taking {@code (K, C, h, w)} and returning {@code (K, D)}
     * @return this builder
     */
    public Builder setBoxHead(Block boxHead) {
      this.boxHead = boxHead;
      return this;
    }

    /**
     * Sets the predictor (default a {@link FastRcnnPredictor} for the classes).
     *
     * @param boxPredictor a block returning {@code {logits (K, C+1), deltas (K, 4(C+1))}}
     * @return this builder
     */
    public Builder setBoxPredictor(Block boxPredictor) {
      this.boxPredictor = boxPredictor;
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
     * Sets the box coder (default weights (10, 10, 5, 5)).
     *
     * @param boxCoder the coder
     * @return this builder
     */
    public Builder setBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the proposal matcher (default 0.5 / 0.5 without low-quality matches).
     *
     * @param matcher the matcher
     * @return this builder
     */
    public Builder setMatcher(Matcher matcher) {
      this.matcher = matcher;
      return this;
    }

    /**
     * Sets the proposal sampler (default 512 per image, 25% positive).
     *
     * @param sampler the sampler
     * @return this builder
     */
    public Builder setSampler(BalancedPositiveNegativeSampler sampler) {
      this.sampler = sampler;
      return this;
    }

    /**
     * Sets the minimum class probability of a detection.
     *
     * @param scoreThreshold default 0.05 (kept if strictly greater)
     * @return this builder
     */
    public Builder setScoreThreshold(float scoreThreshold) {
      this.scoreThreshold = scoreThreshold;
      return this;
    }

    /**
     * Sets the per-class NMS threshold.
     *
     * @param nmsThreshold default 0.5
     * @return this builder
     */
    public Builder setNmsThreshold(float nmsThreshold) {
      this.nmsThreshold = nmsThreshold;
      return this;
    }

    /**
     * Sets the maximum number of detections per image.
     *
     * @param detectionsPerImage default 100
     * @return this builder
     */
    public Builder setDetectionsPerImage(int detectionsPerImage) {
      this.detectionsPerImage = detectionsPerImage;
      return this;
    }

    /**
     * Sets the minimum width and height of a detection.
     *
     * @param minSize default 1e-2
     * @return this builder
     */
    public Builder setMinSize(float minSize) {
      this.minSize = minSize;
      return this;
    }

    /**
     * Sets the smooth-L1 beta of the box loss.
     *
     * @param beta default 1/9
     * @return this builder
     */
    public Builder setBoxLossBeta(float beta) {
      this.boxLossBeta = beta;
      return this;
    }

    /**
     * Builds the RoI heads.
     *
     * @return the RoI heads
     * @throws IllegalArgumentException on missing or invalid settings
     */
    public RoiHeads build() {
      if (pooler == null) {
        throw new IllegalArgumentException("a RoiPooler is required");
      }
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
      }
      if (boxHead == null) {
        boxHead = TwoMlpHead.builder().build();
      }
      if (detectionsPerImage < 1) {
        throw new IllegalArgumentException(
            "detectionsPerImage must be >= 1, got " + detectionsPerImage);
      }
      if (!(nmsThreshold > 0 && nmsThreshold <= 1)) {
        throw new IllegalArgumentException("nmsThreshold must be in (0, 1], got " + nmsThreshold);
      }
      return new RoiHeads(this);
    }
  }
}
