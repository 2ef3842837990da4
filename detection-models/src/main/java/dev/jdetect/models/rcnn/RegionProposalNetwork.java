package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.core.nms.Nms;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The region proposal network of Faster R-CNN (torchvision's {@code RegionProposalNetwork}): runs
 * the {@link RpnHead} on every feature level, decodes its deltas against the anchors, keeps the
 * best {@code preNmsTopN} anchors per level, clips, removes tiny boxes, runs NMS per level and
 * keeps the best {@code postNmsTopN} proposals per image. In training it also computes the
 * objectness and box losses.
 *
 * <p>Defaults follow torchvision: sigmoid objectness, pre-NMS top-n 2000 (train) / 1000 (test),
 * post-NMS top-n 2000 / 1000, NMS 0.7 per level, minimum size 1e-3, score threshold 0; loss with a
 * {@link Matcher} 0.7 / 0.3 with low-quality matches, a {@link BalancedPositiveNegativeSampler}
 * 256 @ 0.5, binary cross-entropy over the sampled anchors and smooth-L1 (beta 1/9) over the
 * positives divided by the number of sampled anchors.
 *
 * <p>{@link #classicBuilder()} gives the configuration of the original paper: 2-way softmax
 * objectness, anchors crossing the image border ignored in training, 12000 / 2000 (train) and 6000
 * / 300 (test), minimum size 16 (in the pixels of the image as given), box loss weighted by {@code
 * lambda = 10} over the number of positives.
 *
 * <p>The block's only child is {@code head}. Use {@link #propose}; the plain {@code forward} takes
 * the feature maps followed by an int {@code (N, 2)} array of image sizes {@code (h, w)} and an int
 * {@code (2)} array with the padded batch size, and returns proposals and scores per image.
 */
public final class RegionProposalNetwork extends AbstractBlock {

  private static final byte VERSION = 1;

  /** How objectness is scored. */
  public enum Objectness {
    /** One logit per anchor, sigmoid, binary cross-entropy (torchvision). */
    SIGMOID,
    /** Two logits per anchor (background, object), softmax, cross-entropy (the paper). */
    SOFTMAX
  }

  /** What the summed box loss is divided by. */
  public enum BoxLossNormalization {
    /** The number of sampled anchors (torchvision). */
    SAMPLED,
    /** The number of positive anchors (the paper, with {@code lambda = 10}). */
    POSITIVES
  }

  private final RpnHead head;
  private final AnchorGenerator anchorGenerator;
  private final BoxCoder boxCoder;
  private final Matcher matcher;
  private final BalancedPositiveNegativeSampler sampler;
  private final int preNmsTopNTrain;
  private final int preNmsTopNTest;
  private final int postNmsTopNTrain;
  private final int postNmsTopNTest;
  private final float nmsThreshold;
  private final float scoreThreshold;
  private final float minSize;
  private final boolean minSizeInOriginalPixels;
  private final Objectness objectness;
  private final boolean ignoreCrossBoundaryAnchors;
  private final float allowedBorder;
  private final BoxLossNormalization boxLossNormalization;
  private final float boxLossWeight;
  private final float boxLossBeta;

  private RegionProposalNetwork(Builder b) {
    super(VERSION);
    this.anchorGenerator = b.anchorGenerator;
    this.objectness = b.objectness;
    int[] perLocation = anchorGenerator.numAnchorsPerLocation();
    for (int a : perLocation) {
      if (a != perLocation[0]) {
        throw new IllegalArgumentException(
            "the RPN head is shared by all levels, so every level needs the same number of anchors"
                + " per location; got "
                + java.util.Arrays.toString(perLocation));
      }
    }
    int logitsPerAnchor = objectness == Objectness.SOFTMAX ? 2 : 1;
    RpnHead h = b.head;
    if (h == null) {
      if (b.inChannels < 1) {
        throw new IllegalArgumentException(
            "set either the head or inChannels (the feature channel count), got " + b.inChannels);
      }
      h =
          RpnHead.builder()
              .setInChannels(b.inChannels)
              .setNumAnchors(perLocation[0])
              .setLogitsPerAnchor(logitsPerAnchor)
              .build();
    }
    if (h.getNumAnchors() != perLocation[0] || h.getLogitsPerAnchor() != logitsPerAnchor) {
      throw new IllegalArgumentException(
          "head predicts "
              + h.getNumAnchors()
              + " anchors x "
              + h.getLogitsPerAnchor()
              + " logits but the anchor generator has "
              + perLocation[0]
              + " anchors and objectness "
              + objectness
              + " needs "
              + logitsPerAnchor);
    }
    this.head = addChildBlock("head", h);
    this.boxCoder = b.boxCoder;
    this.matcher = b.matcher;
    this.sampler = b.sampler;
    this.preNmsTopNTrain = b.preNmsTopNTrain;
    this.preNmsTopNTest = b.preNmsTopNTest;
    this.postNmsTopNTrain = b.postNmsTopNTrain;
    this.postNmsTopNTest = b.postNmsTopNTest;
    this.nmsThreshold = b.nmsThreshold;
    this.scoreThreshold = b.scoreThreshold;
    this.minSize = b.minSize;
    this.minSizeInOriginalPixels = b.minSizeInOriginalPixels;
    this.ignoreCrossBoundaryAnchors = b.ignoreCrossBoundaryAnchors;
    this.allowedBorder = b.allowedBorder;
    this.boxLossNormalization = b.boxLossNormalization;
    this.boxLossWeight = b.boxLossWeight;
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
   * Returns a builder preset to the original paper's RPN: softmax objectness, cross-boundary
   * anchors ignored, 12000 / 2000 (train) and 6000 / 300 (test), minimum size 16, box loss {@code
   * 10 * sum / positives}, and the classic anchors (16 x {8, 16, 32} x {0.5, 1, 2}, stride 16).
   *
   * @return a new builder
   */
  public static Builder classicBuilder() {
    return new Builder()
        .setAnchorGenerator(AnchorGenerator.classic())
        .setObjectness(Objectness.SOFTMAX)
        .setIgnoreCrossBoundaryAnchors(true)
        .setPreNmsTopN(12000, 6000)
        .setPostNmsTopN(2000, 300)
        .setMinSize(16f)
        .setMinSizeInOriginalPixels(true)
        .setBoxLoss(BoxLossNormalization.POSITIVES, 10f);
  }

  /**
   * Returns the head.
   *
   * @return the RPN head
   */
  public RpnHead getHead() {
    return head;
  }

  /**
   * Returns the anchor generator.
   *
   * @return the generator
   */
  public AnchorGenerator getAnchorGenerator() {
    return anchorGenerator;
  }

  /**
   * Returns the objectness form.
   *
   * @return sigmoid or softmax
   */
  public Objectness getObjectness() {
    return objectness;
  }

  /** The proposals of a batch, and the RPN losses in training. */
  public static final class Output {

    private final List<NDArray> proposals;
    private final List<NDArray> scores;
    private final NDArray anchors;
    private final NDArray objectnessLoss;
    private final NDArray boxLoss;

    Output(
        List<NDArray> proposals,
        List<NDArray> scores,
        NDArray anchors,
        NDArray objectnessLoss,
        NDArray boxLoss) {
      this.proposals = Collections.unmodifiableList(proposals);
      this.scores = Collections.unmodifiableList(scores);
      this.anchors = anchors;
      this.objectnessLoss = objectnessLoss;
      this.boxLoss = boxLoss;
    }

    /**
     * Returns the proposals of each image, best first.
     *
     * @return one {@code (P_i, 4)} array per image, in resized-image pixels, no gradient
     */
    public List<NDArray> proposals() {
      return proposals;
    }

    /**
     * Returns the objectness probability of each proposal.
     *
     * @return one {@code (P_i)} array per image
     */
    public List<NDArray> scores() {
      return scores;
    }

    /**
     * Returns the anchors of one image (the same for every image of the batch).
     *
     * @return {@code (T, 4)} anchors, levels concatenated
     */
    public NDArray anchors() {
      return anchors;
    }

    /**
     * Returns the objectness loss ({@code loss_objectness}).
     *
     * @return the scalar loss, or {@code null} outside training
     */
    public NDArray objectnessLoss() {
      return objectnessLoss;
    }

    /**
     * Returns the box regression loss ({@code loss_rpn_box_reg}).
     *
     * @return the scalar loss, or {@code null} outside training
     */
    public NDArray boxLoss() {
      return boxLoss;
    }
  }

  /**
   * Proposes regions for a batch, and computes the RPN losses when targets are given.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param imageSizes {@code {h, w}} of every image after resizing (clip bounds)
   * @param paddedHeight height of the padded batch (anchor strides are derived from it)
   * @param paddedWidth width of the padded batch
   * @param training whether this is a training pass (top-n settings and losses)
   * @param targets per image {@code {boxes (G_i, 4), labels (G_i)}} in resized pixels; required
   *     when training, ignored otherwise
   * @return the proposals (and losses in training), on the features' manager
   */
  public Output propose(
      ParameterStore parameterStore,
      NDList features,
      List<int[]> imageSizes,
      int paddedHeight,
      int paddedWidth,
      boolean training,
      List<NDArray[]> targets) {
    return propose(
        parameterStore, features, imageSizes, null, paddedHeight, paddedWidth, training, targets);
  }

  /**
   * Proposes regions for a transformed batch (sizes, padding and resize scales from the batch), and
   * computes the RPN losses when targets are given.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param batch the transformed images the features were computed from
   * @param training whether this is a training pass (top-n settings and losses)
   * @param targets per image {@code {boxes (G_i, 4), labels (G_i)}} in resized pixels; required
   *     when training, ignored otherwise
   * @return the proposals (and losses in training), on the features' manager
   */
  public Output propose(
      ParameterStore parameterStore,
      NDList features,
      ImageBatch batch,
      boolean training,
      List<NDArray[]> targets) {
    float[] scales = new float[batch.size()];
    for (int i = 0; i < scales.length; i++) {
      scales[i] = (float) batch.imageSizes().get(i)[0] / batch.originalSizes().get(i)[0];
    }
    return propose(
        parameterStore,
        features,
        batch.imageSizes(),
        scales,
        batch.paddedHeight(),
        batch.paddedWidth(),
        training,
        targets);
  }

  private Output propose(
      ParameterStore parameterStore,
      NDList features,
      List<int[]> imageSizes,
      float[] resizeScales,
      int paddedHeight,
      int paddedWidth,
      boolean training,
      List<NDArray[]> targets) {
    if (features.size() != anchorGenerator.numLevels()) {
      throw new IllegalArgumentException(
          "features: got "
              + features.size()
              + " levels but the anchor generator has "
              + anchorGenerator.numLevels());
    }
    int numImages = (int) features.get(0).getShape().get(0);
    if (imageSizes.size() != numImages) {
      throw new IllegalArgumentException(
          "imageSizes has " + imageSizes.size() + " entries for a batch of " + numImages);
    }
    if (training && (targets == null || targets.size() != numImages)) {
      throw new IllegalArgumentException(
          "training needs one target per image, got "
              + (targets == null ? "none" : targets.size() + " for " + numImages + " images"));
    }
    NDManager manager = features.get(0).getManager();
    int levels = features.size();
    List<NDArray> outProposals = new ArrayList<>(numImages);
    List<NDArray> outScores = new ArrayList<>(numImages);
    NDArray anchors;
    NDArray objLoss = null;
    NDArray boxLoss = null;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList headOut = head.forward(parameterStore, features, training);
      List<Shape> shapes = new ArrayList<>(levels);
      for (NDArray f : features) {
        shapes.add(f.getShape());
      }
      anchors = anchorGenerator.generate(manager, shapes, paddedHeight, paddedWidth);
      int[] perLevel = new int[levels];
      NDList logitList = new NDList(levels);
      NDList deltaList = new NDList(levels);
      int a = head.getNumAnchors();
      for (int l = 0; l < levels; l++) {
        NDArray logits = headOut.get(l);
        NDArray deltas = headOut.get(l + levels);
        Shape s = logits.getShape();
        long h = s.get(2);
        long w = s.get(3);
        perLevel[l] = (int) (h * w * a);
        if (objectness == Objectness.SOFTMAX) {
          // channels: A background logits then A object logits
          logitList.add(
              logits
                  .reshape(numImages, 2, a, h, w)
                  .transpose(0, 3, 4, 2, 1)
                  .reshape(numImages, -1, 2));
        } else {
          logitList.add(logits.transpose(0, 2, 3, 1).reshape(numImages, -1));
        }
        deltaList.add(
            deltas
                .reshape(numImages, a, 4, h, w)
                .transpose(0, 3, 4, 1, 2)
                .reshape(numImages, -1, 4));
      }
      NDArray logits = levels == 1 ? logitList.get(0) : NDArrays.concat(logitList, 1);
      NDArray deltas = levels == 1 ? deltaList.get(0) : NDArrays.concat(deltaList, 1);
      long total = anchors.getShape().get(0);
      if (deltas.getShape().get(1) != total) {
        throw new IllegalStateException(
            "head produced " + deltas.getShape().get(1) + " anchors, generator " + total);
      }

      // ranking score and probability (no gradient)
      NDArray detached = logits.stopGradient();
      NDArray probability =
          objectness == Objectness.SOFTMAX
              ? detached.softmax(2).get(":, :, 1")
              : Activation.sigmoid(detached);
      NDArray rank = objectness == Objectness.SOFTMAX ? probability : detached;
      NDArray decoded = boxCoder.decode(deltas.stopGradient(), anchors);

      int preNms = training ? preNmsTopNTrain : preNmsTopNTest;
      int postNms = training ? postNmsTopNTrain : postNmsTopNTest;
      long[] levelIds = new long[(int) total];
      int offset = 0;
      for (int l = 0; l < levels; l++) {
        for (int j = 0; j < perLevel[l]; j++) {
          levelIds[offset + j] = l;
        }
        offset += perLevel[l];
      }
      NDArray levelArray = manager.create(levelIds).toDevice(anchors.getDevice(), false);
      for (int i = 0; i < numImages; i++) {
        NDArray rankI = rank.get(i);
        NDList picked = new NDList(levels);
        offset = 0;
        for (int l = 0; l < levels; l++) {
          int k = Math.min(preNms, perLevel[l]);
          NDArray part = rankI.get(offset + ":" + (offset + perLevel[l]));
          NDArray idx = part.topK(k, 0, true, true).get(1).toType(DataType.INT64, false);
          picked.add(offset == 0 ? idx : idx.add(offset));
          offset += perLevel[l];
        }
        NDArray keepIdx = levels == 1 ? picked.get(0) : NDArrays.concat(picked, 0);
        NDArray boxes = decoded.get(i).get(keepIdx);
        NDArray scores = probability.get(i).get(keepIdx);
        NDArray lvl = levelArray.get(keepIdx);
        int[] size = imageSizes.get(i);
        boxes = Boxes.clip(boxes, size[0], size[1]);
        float minSide = minSize;
        if (minSizeInOriginalPixels && resizeScales != null) {
          minSide = minSize * resizeScales[i];
        }
        NDArray keep = Boxes.removeSmall(boxes, minSide);
        boxes = boxes.get(keep);
        scores = scores.get(keep);
        lvl = lvl.get(keep);
        if (scoreThreshold > 0) {
          NDArray above = scores.gte(scoreThreshold).nonzero().squeeze(1);
          boxes = boxes.get(above);
          scores = scores.get(above);
          lvl = lvl.get(above);
        }
        NDArray kept = Nms.batchedNms(boxes, scores, lvl, nmsThreshold);
        if (kept.getShape().get(0) > postNms) {
          kept = kept.get(":" + postNms);
        }
        outProposals.add(boxes.get(kept));
        outScores.add(scores.get(kept));
      }

      if (training) {
        NDArray[] losses = losses(logits, deltas, anchors, imageSizes, targets);
        objLoss = losses[0];
        boxLoss = losses[1];
        NDScope.unregister(objLoss, boxLoss);
      }
      NDScope.unregister(anchors);
      for (int i = 0; i < numImages; i++) {
        NDScope.unregister(outProposals.get(i), outScores.get(i));
      }
    }
    // hand the results to the caller's scope, if any
    NDScope.register(anchors);
    for (int i = 0; i < numImages; i++) {
      NDScope.register(outProposals.get(i));
      NDScope.register(outScores.get(i));
    }
    if (objLoss != null) {
      NDScope.register(objLoss);
      NDScope.register(boxLoss);
    }
    return new Output(outProposals, outScores, anchors, objLoss, boxLoss);
  }

  private NDArray[] losses(
      NDArray logits,
      NDArray deltas,
      NDArray anchors,
      List<int[]> imageSizes,
      List<NDArray[]> targets) {
    int numImages = imageSizes.size();
    NDManager manager = logits.getManager();
    NDList objTerms = new NDList();
    NDList boxTerms = new NDList();
    long sampled = 0;
    long positives = 0;
    for (int i = 0; i < numImages; i++) {
      NDArray gt = targets.get(i)[0];
      NDArray[] assigned = assignLabels(anchors, gt, imageSizes.get(i));
      NDArray labels = assigned[0];
      NDArray matched = assigned[1];
      NDArray[] masks = sampler.sample(labels);
      NDArray posIdx = masks[0].nonzero().squeeze(1);
      NDArray negIdx = masks[1].nonzero().squeeze(1);
      long numPos = posIdx.getShape().get(0);
      long numNeg = negIdx.getShape().get(0);
      sampled += numPos + numNeg;
      positives += numPos;
      NDArray imageLogits = logits.get(i);
      if (numPos + numNeg > 0) {
        NDArray sampledIdx = posIdx.concat(negIdx, 0);
        NDArray sampledLogits = imageLogits.get(sampledIdx);
        NDArray target =
            manager
                .ones(new Shape(numPos), DataType.FLOAT32, anchors.getDevice())
                .concat(manager.zeros(new Shape(numNeg), DataType.FLOAT32, anchors.getDevice()), 0);
        NDArray loss;
        if (objectness == Objectness.SOFTMAX) {
          loss = DetectionLosses.crossEntropy(sampledLogits, target.toType(DataType.INT64, false));
        } else {
          loss = DetectionLosses.binaryCrossEntropyWithLogits(sampledLogits, target);
        }
        objTerms.add(loss.sum());
      }
      if (numPos > 0) {
        NDArray matchedGt = gt.get(matched.get(posIdx));
        NDArray regTargets = boxCoder.encode(matchedGt, anchors.get(posIdx));
        NDArray predicted = deltas.get(i).get(posIdx);
        boxTerms.add(DetectionLosses.smoothL1(predicted, regTargets, boxLossBeta).sum());
      }
    }
    NDArray zero = Scalars.mul(logits.sum(), 0f).abs(); // +0 that keeps the graph
    NDArray objSum = objTerms.isEmpty() ? zero : sum(objTerms);
    NDArray boxSum = boxTerms.isEmpty() ? zero : sum(boxTerms);
    NDArray objLoss = sampled == 0 ? objSum : Scalars.div(objSum, (float) sampled);
    NDArray boxLoss;
    if (boxLossNormalization == BoxLossNormalization.POSITIVES) {
      boxLoss = Scalars.div(Scalars.mul(boxSum, boxLossWeight), (float) Math.max(positives, 1));
    } else {
      boxLoss = Scalars.div(Scalars.mul(boxSum, boxLossWeight), (float) Math.max(sampled, 1));
    }
    objLoss.setName("loss_objectness");
    boxLoss.setName("loss_rpn_box_reg");
    return new NDArray[] {objLoss, boxLoss};
  }

  /**
   * Labels every anchor of one image for the loss: 1 object, 0 background, -1 ignored (between the
   * thresholds or, when configured, crossing the image border).
   *
   * @param anchors {@code (T, 4)} anchors
   * @param gt {@code (G, 4)} ground-truth boxes (G may be 0)
   * @param imageSize {@code {h, w}} of the resized image
   * @return {@code {labels (T) int64, matched gt index (T) int64 or null when G == 0}}
   */
  NDArray[] assignLabels(NDArray anchors, NDArray gt, int[] imageSize) {
    NDManager manager = anchors.getManager();
    long total = anchors.getShape().get(0);
    long numGt = gt.getShape().get(0);
    NDArray inside = null;
    if (ignoreCrossBoundaryAnchors) {
      NDList c = anchors.split(4, 1);
      inside =
          c.get(0)
              .gte(-allowedBorder)
              .logicalAnd(c.get(1).gte(-allowedBorder))
              .logicalAnd(c.get(2).lte(imageSize[1] + allowedBorder))
              .logicalAnd(c.get(3).lte(imageSize[0] + allowedBorder))
              .squeeze(1);
    }
    NDArray labels;
    NDArray matched = null;
    if (numGt == 0) {
      labels = manager.zeros(new Shape(total), DataType.INT64, anchors.getDevice());
    } else {
      NDArray iou = Boxes.iou(gt, anchors);
      if (inside != null) {
        // outside anchors can neither match nor be the best anchor of a ground-truth box
        NDArray insideGrid = inside.expandDims(0).broadcast(iou.getShape());
        iou = NDArrays.where(insideGrid, iou, iou.onesLike().neg());
      }
      matched = matcher.match(iou);
      NDArray positive = matched.gte(0).toType(DataType.INT64, false);
      NDArray between = matched.eq(Matcher.BETWEEN_THRESHOLDS).toType(DataType.INT64, false);
      labels = positive.sub(between);
    }
    if (inside != null) {
      labels = NDArrays.where(inside, labels, labels.onesLike().neg());
    }
    return new NDArray[] {labels, matched};
  }

  private static NDArray sum(NDList terms) {
    NDArray s = terms.get(0);
    for (int i = 1; i < terms.size(); i++) {
      s = s.add(terms.get(i));
    }
    return s;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    if (inputs.size() < 3) {
      throw new IllegalArgumentException(
          "inputs must be the feature maps, image sizes (N,2) and padded size (2); got "
              + inputs.size()
              + " arrays");
    }
    int levels = inputs.size() - 2;
    NDList features = inputs.subNDList(0, levels);
    long[] sizes = inputs.get(levels).toType(DataType.INT64, false).toLongArray();
    long[] padded = inputs.get(levels + 1).toType(DataType.INT64, false).toLongArray();
    List<int[]> imageSizes = new ArrayList<>();
    for (int i = 0; i + 1 < sizes.length; i += 2) {
      imageSizes.add(new int[] {(int) sizes[i], (int) sizes[i + 1]});
    }
    Output out =
        propose(
            parameterStore, features, imageSizes, (int) padded[0], (int) padded[1], false, null);
    NDList result = new NDList();
    for (int i = 0; i < imageSizes.size(); i++) {
      result.add(out.proposals().get(i));
      result.add(out.scores().get(i));
    }
    return result;
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    int n = (int) inputShapes[inputShapes.length - 2].get(0);
    Shape[] out = new Shape[2 * n];
    for (int i = 0; i < n; i++) {
      out[2 * i] = new Shape(-1, 4);
      out[2 * i + 1] = new Shape(-1);
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    int levels = anchorGenerator.numLevels();
    Shape[] featureShapes = new Shape[levels];
    System.arraycopy(inputShapes, 0, featureShapes, 0, levels);
    head.initialize(manager, dataType, featureShapes);
  }

  /** A builder of {@link RegionProposalNetwork} with torchvision's defaults. */
  public static final class Builder {

    private RpnHead head;
    private int inChannels = -1;
    private AnchorGenerator anchorGenerator = AnchorGenerator.builder().build();
    private BoxCoder boxCoder = BoxCoder.builder().optWeights(1f, 1f, 1f, 1f).build();
    private Matcher matcher =
        Matcher.builder()
            .setHighThreshold(0.7f)
            .setLowThreshold(0.3f)
            .setAllowLowQualityMatches(true)
            .build();
    private BalancedPositiveNegativeSampler sampler =
        BalancedPositiveNegativeSampler.builder()
            .setBatchSizePerImage(256)
            .setPositiveFraction(0.5)
            .build();
    private int preNmsTopNTrain = 2000;
    private int preNmsTopNTest = 1000;
    private int postNmsTopNTrain = 2000;
    private int postNmsTopNTest = 1000;
    private float nmsThreshold = 0.7f;
    private float scoreThreshold;
    private float minSize = 1e-3f;
    private boolean minSizeInOriginalPixels;
    private Objectness objectness = Objectness.SIGMOID;
    private boolean ignoreCrossBoundaryAnchors;
    private float allowedBorder;
    private BoxLossNormalization boxLossNormalization = BoxLossNormalization.SAMPLED;
    private float boxLossWeight = 1f;
    private float boxLossBeta = 1f / 9;

    private Builder() {}

    /**
     * Sets the head; by default one is built from {@link #setInChannels(int)} and the anchors.
     *
     * @param head the head
     * @return this builder
     */
    public Builder setHead(RpnHead head) {
      this.head = head;
      return this;
    }

    /**
     * Sets the feature channel count used to build the default head.
     *
     * @param inChannels channels of every feature level
     * @return this builder
     */
    public Builder setInChannels(int inChannels) {
      this.inChannels = inChannels;
      return this;
    }

    /**
     * Sets the anchor generator (default: torchvision's single level 128/256/512 x 0.5/1/2).
     *
     * @param anchorGenerator the generator
     * @return this builder
     */
    public Builder setAnchorGenerator(AnchorGenerator anchorGenerator) {
      this.anchorGenerator = anchorGenerator;
      return this;
    }

    /**
     * Sets the box coder (default weights (1, 1, 1, 1)).
     *
     * @param boxCoder the coder
     * @return this builder
     */
    public Builder setBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the anchor matcher (default 0.7 / 0.3 with low-quality matches).
     *
     * @param matcher the matcher
     * @return this builder
     */
    public Builder setMatcher(Matcher matcher) {
      this.matcher = matcher;
      return this;
    }

    /**
     * Sets the anchor sampler (default 256 per image, half positive).
     *
     * @param sampler the sampler
     * @return this builder
     */
    public Builder setSampler(BalancedPositiveNegativeSampler sampler) {
      this.sampler = sampler;
      return this;
    }

    /**
     * Sets how many anchors per level are kept before NMS.
     *
     * @param train in training, default 2000
     * @param test in inference, default 1000
     * @return this builder
     */
    public Builder setPreNmsTopN(int train, int test) {
      this.preNmsTopNTrain = train;
      this.preNmsTopNTest = test;
      return this;
    }

    /**
     * Sets how many proposals per image are kept after NMS.
     *
     * @param train in training, default 2000
     * @param test in inference, default 1000
     * @return this builder
     */
    public Builder setPostNmsTopN(int train, int test) {
      this.postNmsTopNTrain = train;
      this.postNmsTopNTest = test;
      return this;
    }

    /**
     * Sets the NMS IoU threshold.
     *
     * @param nmsThreshold default 0.7
     * @return this builder
     */
    public Builder setNmsThreshold(float nmsThreshold) {
      this.nmsThreshold = nmsThreshold;
      return this;
    }

    /**
     * Sets the minimum objectness probability of a proposal.
     *
     * @param scoreThreshold default 0
     * @return this builder
     */
    public Builder setScoreThreshold(float scoreThreshold) {
      this.scoreThreshold = scoreThreshold;
      return this;
    }

    /**
     * Sets the minimum proposal width and height, in resized-image pixels.
     *
     * @param minSize default 1e-3 (16 in the paper, see {@link #setMinSizeInOriginalPixels})
     * @return this builder
     */
    public Builder setMinSize(float minSize) {
      this.minSize = minSize;
      return this;
    }

    /**
     * Sets whether the minimum size is measured in the pixels of the image as given (scaled by each
     * image's resize factor, as the paper's implementation does) instead of the resized image's.
     * Applies when the batch's resize scales are known ({@link
     * RegionProposalNetwork#propose(ParameterStore, NDList, ImageBatch, boolean, List)}).
     *
     * @param inOriginalPixels default false (true in {@link #classicBuilder()})
     * @return this builder
     */
    public Builder setMinSizeInOriginalPixels(boolean inOriginalPixels) {
      this.minSizeInOriginalPixels = inOriginalPixels;
      return this;
    }

    /**
     * Sets how objectness is scored; the default head follows it.
     *
     * @param objectness default {@link Objectness#SIGMOID}
     * @return this builder
     */
    public Builder setObjectness(Objectness objectness) {
      this.objectness = objectness;
      return this;
    }

    /**
     * Sets whether anchors crossing the image border are ignored by the loss (the paper).
     *
     * @param ignore default false
     * @return this builder
     */
    public Builder setIgnoreCrossBoundaryAnchors(boolean ignore) {
      this.ignoreCrossBoundaryAnchors = ignore;
      return this;
    }

    /**
     * Sets how far (pixels) an anchor may cross the border before it is ignored.
     *
     * @param allowedBorder default 0
     * @return this builder
     */
    public Builder setAllowedBorder(float allowedBorder) {
      this.allowedBorder = allowedBorder;
      return this;
    }

    /**
     * Sets the box loss normalisation and weight: the summed smooth-L1 of the positives is
     * multiplied by {@code weight} and divided by the sampled or positive count.
     *
     * @param normalization default {@link BoxLossNormalization#SAMPLED}
     * @param weight default 1 (10 in the paper)
     * @return this builder
     */
    public Builder setBoxLoss(BoxLossNormalization normalization, float weight) {
      this.boxLossNormalization = normalization;
      this.boxLossWeight = weight;
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
     * Builds the RPN.
     *
     * @return the RPN
     * @throws IllegalArgumentException on inconsistent or invalid settings
     */
    public RegionProposalNetwork build() {
      if (preNmsTopNTrain < 1
          || preNmsTopNTest < 1
          || postNmsTopNTrain < 1
          || postNmsTopNTest < 1) {
        throw new IllegalArgumentException("top-n values must be >= 1");
      }
      if (!(nmsThreshold > 0 && nmsThreshold <= 1)) {
        throw new IllegalArgumentException("nmsThreshold must be in (0, 1], got " + nmsThreshold);
      }
      if (!(minSize >= 0) || !(boxLossWeight >= 0) || !(boxLossBeta >= 0)) {
        throw new IllegalArgumentException(
            "minSize, box loss weight and beta must be >= 0, got "
                + minSize
                + ", "
                + boxLossWeight
                + ", "
                + boxLossBeta);
      }
      return new RegionProposalNetwork(this);
    }
  }
}
