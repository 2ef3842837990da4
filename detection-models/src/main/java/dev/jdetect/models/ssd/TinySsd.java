package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.MultiBoxPrior;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.models.backbone.ConvBlocks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * TinySSD from Dive into Deep Learning (section "Single Shot Multibox Detection").
 *
 * <p>Network: {@code blk_0} is the base net, three down-sampling blocks of 16, 32 and 64 channels
 * (each 3x3 conv, BN, ReLU twice, then a 2x2 max pool); {@code blk_1..blk_3} are 128-channel
 * down-sampling blocks and {@code blk_4} a global max pool. Every scale {@code i} has a 3x3 class
 * predictor {@code cls_i} and a 3x3 box predictor {@code bbox_i} and the D2L anchors ({@link
 * MultiBoxPrior}) of sizes {@code [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79], [0.88,
 * 0.961]]} and ratios {@code [1, 2, 0.5]}: 4 per pixel, 5444 anchors at 256x256. Child names follow
 * D2L's PyTorch attributes, so a D2L {@code TinySSD} state_dict loads through {@code
 * dev.jdetect.models.weights}.
 *
 * <p>Input: float32 RGB {@code (N, 3, H, W)} used as given (no normalisation or resizing; the first
 * batch norm takes care of the scale), {@code H, W >= 64}. Anchors are relative, so the network
 * runs at any such size.
 *
 * <ul>
 *   <li>{@link #predict}: raw outputs {@code cls (N, A, C + 1)}, {@code box (N, A, 4)} D2L offsets
 *       and the relative anchors {@code (A, 4)}.
 *   <li>Training, {@code forward(ps, images, targets, params)} with {@link Targets}: the losses
 *       {@code loss_bbox_regression} and {@code loss_classification} (the SSD names, in {@link
 *       MultiBoxLoss}'s order). With {@link LossType#D2L} (default) they are D2L's {@code
 *       calc_loss}: per image the mean masked L1 over all offsets and the mean cross entropy over
 *       all anchors, averaged over the batch (their sum is D2L's loss), on the labels of D2L's
 *       {@code multibox_target} (IoU 0.5 plus a greedy best anchor per ground truth) and D2L's
 *       offsets ({@link TinySsdTargets}). With {@link LossType#MULTIBOX} the shared {@link
 *       MultiBoxLoss} runs on the same predictions with the anchors in input pixels (SSD matcher,
 *       box coder weights (10, 10, 5, 5), which equal D2L's 0.1 / 0.2 variances, hard-negative
 *       mining 3:1, smooth L1; both terms over the number of positives).
 *   <li>Inference, {@code forward(ps, images, training)}: D2L's {@code multibox_detection}
 *       semantics: softmax, each anchor's best object class, decode, one class-agnostic NMS (0.5),
 *       drop scores below the threshold (D2L's 0.01); boxes then clipped to the image and given in
 *       input pixels; optionally capped to {@code maxDetections} per image. The result is the
 *       {@link Detections#toNDList} form.
 * </ul>
 */
public final class TinySsd extends AbstractBlock implements DetectionModel {

  /** Which training loss {@link TinySsd} computes. */
  public enum LossType {
    /** D2L's loss: mean CE over all anchors + mean masked L1 on offsets. */
    D2L,
    /** SSD MultiBox: CE with 3:1 hard-negative mining + smooth L1, over positives. */
    MULTIBOX
  }

  /** D2L's anchor sizes per scale. */
  public static final float[][] DEFAULT_SIZES = {
    {0.2f, 0.272f}, {0.37f, 0.447f}, {0.54f, 0.619f}, {0.71f, 0.79f}, {0.88f, 0.961f}
  };

  /** D2L's anchor ratios (the same at every scale). */
  public static final float[] DEFAULT_RATIOS = {1f, 2f, 0.5f};

  private static final int NUM_SCALES = 5;
  private static final int MIN_SIZE = 64;

  private final int numClasses;
  private final LossType lossType;
  private final float matchThreshold;
  private final float nmsThreshold;
  private final float scoreThreshold;
  private final int maxDetections;
  private final MultiBoxLoss multiBoxLoss;
  private final MultiBoxPrior[] priors = new MultiBoxPrior[NUM_SCALES];
  private final Block[] blocks = new Block[NUM_SCALES];
  private final Block[] clsPredictors = new Block[NUM_SCALES];
  private final Block[] boxPredictors = new Block[NUM_SCALES];

  private TinySsd(Builder b) {
    ConvolutionCheck.ensureCorrect();
    this.numClasses = b.numClasses;
    this.lossType = b.lossType;
    this.matchThreshold = b.matchThreshold;
    this.nmsThreshold = b.nmsThreshold;
    this.scoreThreshold = b.scoreThreshold;
    this.maxDetections = b.maxDetections;
    this.multiBoxLoss = b.multiBoxLoss;
    int anchors = -1;
    for (int i = 0; i < NUM_SCALES; i++) {
      priors[i] = MultiBoxPrior.builder().setSizes(b.sizes[i]).setRatios(b.ratios).build();
      if (anchors >= 0 && priors[i].numAnchorsPerLocation() != anchors) {
        throw new IllegalArgumentException(
            "sizes: every scale needs the same number of sizes, got "
                + Arrays.deepToString(b.sizes));
      }
      anchors = priors[i].numAnchorsPerLocation();
    }
    for (int i = 0; i < NUM_SCALES; i++) {
      Block blk;
      if (i == 0) {
        SequentialBlock base = new SequentialBlock();
        for (int c : b.baseChannels) {
          base.add(downSampleBlock(c));
        }
        blk = base;
      } else if (i == NUM_SCALES - 1) {
        blk = LambdaBlock.singleton(TinySsd::globalMaxPool, "globalMaxPool");
      } else {
        blk = downSampleBlock(b.channels);
      }
      blocks[i] = addChildBlock("blk_" + i, blk);
      clsPredictors[i] =
          addChildBlock("cls_" + i, ConvBlocks.conv(anchors * (numClasses + 1), 3, 1, 1, 1, true));
      boxPredictors[i] = addChildBlock("bbox_" + i, ConvBlocks.conv(anchors * 4, 3, 1, 1, 1, true));
    }
  }

  private static NDArray globalMaxPool(NDArray x) {
    return x.max(new int[] {3}, true).max(new int[] {2}, true);
  }

  /**
   * D2L's {@code down_sample_blk}: (3x3 conv, BN, ReLU) twice, then a 2x2 max pool.
   *
   * @param channels the output channels
   * @return the block, torchvision-indexed (convs at 0 and 3, norms at 1 and 4, pool at 6)
   */
  public static SequentialBlock downSampleBlock(int channels) {
    SequentialBlock blk = new SequentialBlock();
    for (int k = 0; k < 2; k++) {
      blk.add(ConvBlocks.conv(channels, 3, 1, 1, 1, true));
      blk.add(ConvBlocks.batchNorm(1e-5f, 0.1f));
      blk.add(Activation.reluBlock());
    }
    blk.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
    return blk;
  }

  /**
   * Returns a builder; the number of classes must be set.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public String[] lossNames() {
    return new String[] {MultiBoxLoss.BOX_LOSS, MultiBoxLoss.CLASS_LOSS};
  }

  /**
   * Returns the loss this model trains with.
   *
   * @return the loss type
   */
  public LossType getLossType() {
    return lossType;
  }

  /**
   * Returns the number of anchors per feature-map pixel.
   *
   * @return {@code sizes + ratios - 1} (4 by default)
   */
  public int numAnchorsPerLocation() {
    return priors[0].numAnchorsPerLocation();
  }

  /**
   * Runs the network and returns its raw outputs.
   *
   * @param ps the parameter store
   * @param images float32 {@code (N, 3, H, W)}, {@code H, W >= 64}
   * @param training whether batch norms run in training mode
   * @return {@code {cls (N, A, C + 1) logits, box (N, A, 4) D2L offsets, anchors (A, 4) relative
   *     xyxy}}
   */
  public NDList predict(ParameterStore ps, NDArray images, boolean training) {
    checkImages(images);
    NDManager manager = images.getManager();
    long n = images.getShape().get(0);
    NDList cls = new NDList(NUM_SCALES);
    NDList box = new NDList(NUM_SCALES);
    NDList anchors = new NDList(NUM_SCALES);
    NDList x = new NDList(images);
    for (int i = 0; i < NUM_SCALES; i++) {
      x = blocks[i].forward(ps, x, training);
      Shape fs = x.head().getShape();
      anchors.add(
          priors[i]
              .generate(manager, (int) fs.get(2), (int) fs.get(3))
              .toDevice(images.getDevice(), false));
      cls.add(flatten(clsPredictors[i].forward(ps, x, training).head(), n, numClasses + 1));
      box.add(flatten(boxPredictors[i].forward(ps, x, training).head(), n, 4));
    }
    return new NDList(
        NDArrays.concat(cls, 1), NDArrays.concat(box, 1), NDArrays.concat(anchors, 0));
  }

  private static NDArray flatten(NDArray p, long n, int columns) {
    // D2L's flatten_pred: (N, A*K, H, W) -> (N, H, W, A*K) -> (N, H*W*A, K)
    return p.transpose(0, 2, 3, 1).reshape(n, -1, columns);
  }

  private static void checkImages(NDArray images) {
    Shape s = images.getShape();
    if (s.dimension() != 4 || s.get(1) != 3 || s.get(2) < MIN_SIZE || s.get(3) < MIN_SIZE) {
      throw new IllegalArgumentException(
          "images: expected (N, 3, H, W) with H, W >= " + MIN_SIZE + ", got " + s);
    }
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray images = inputs.head();
    int height = (int) images.getShape().get(2);
    int width = (int) images.getShape().get(3);
    List<Detections> out = new ArrayList<>();
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList raw = predict(ps, images, training);
      NDArray probs = raw.get(0).softmax(2);
      NDArray scale =
          images
              .getManager()
              .create(new float[] {width, height, width, height})
              .toDevice(images.getDevice(), false);
      NDArray pixels = raw.get(2).mul(scale);
      long n = probs.getShape().get(0);
      for (int i = 0; i < n; i++) {
        Detections d = detect(probs.get(i), raw.get(1).get(i), pixels, height, width);
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
        out.add(d);
      }
    }
    return Detections.toNDList(out);
  }

  /** D2L's multibox_detection for one image, in pixels. */
  private Detections detect(
      NDArray probs, NDArray offsets, NDArray anchorsPx, int height, int width) {
    NDArray objects = probs.get(":, 1:");
    NDArray conf = objects.max(new int[] {1});
    NDArray classId = objects.argMax(1);
    NDArray boxes = TinySsdTargets.decode(anchorsPx, offsets);
    NDArray keep = Nms.nms(boxes, conf, nmsThreshold);
    NDArray keptConf = conf.get(keep);
    // D2L sets class -1 where conf < pos_threshold; those are dropped here.
    NDArray pass = keptConf.gte(scoreThreshold);
    long count = pass.toType(DataType.INT64, false).sum().getLong();
    if (maxDetections >= 0) {
      count = Math.min(count, maxDetections);
    }
    // NMS output is sorted by score, so the passing ones form a prefix.
    NDArray sel = keep.get(":" + count);
    NDArray outBoxes = Boxes.clip(boxes.get(sel), height, width);
    NDArray outScores = conf.get(sel);
    NDArray outLabels = classId.get(sel).toType(DataType.INT64, false).add(1);
    return new Detections(outBoxes, outScores, outLabels);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList data, NDList labels, PairList<String, Object> params) {
    if (labels == null) {
      return forwardInternal(ps, data, true, params);
    }
    NDArray images = data.head();
    Targets.validate(labels, numClasses);
    NDList raw = predict(ps, images, true);
    NDArray clsPreds = raw.get(0);
    NDArray boxPreds = raw.get(1);
    NDArray lossCls;
    NDArray lossBox;
    if (lossType == LossType.D2L) {
      NDArray[] assigned = labelAnchors(raw.get(2), labels, images.getShape());
      NDList d2l =
          TinySsdTargets.d2lLoss(clsPreds, boxPreds, assigned[0], assigned[1], assigned[2]);
      lossCls = d2l.get(0);
      lossBox = d2l.get(1);
    } else {
      float h = images.getShape().get(2);
      float w = images.getShape().get(3);
      NDArray scale = images.getManager().create(new float[] {w, h, w, h});
      NDArray anchorsPx = raw.get(2).mul(scale.toDevice(images.getDevice(), false));
      NDList mb = multiBoxLoss.compute(clsPreds, boxPreds, anchorsPx, Targets.unpad(labels));
      lossBox = mb.get(0);
      lossCls = mb.get(1);
    }
    lossBox.setName(MultiBoxLoss.BOX_LOSS);
    lossCls.setName(MultiBoxLoss.CLASS_LOSS);
    return new NDList(lossBox, lossCls);
  }

  /**
   * D2L's {@code multibox_target} on a batch.
   *
   * @param anchorsRel (A, 4) relative anchors
   * @param targets the batch targets in pixels
   * @param imageShape (N, 3, H, W)
   * @return {class labels (N, A) int64, offsets (N, A, 4), mask (N, A, 4)}
   */
  NDArray[] labelAnchors(NDArray anchorsRel, NDList targets, Shape imageShape) {
    NDManager manager = anchorsRel.getManager();
    float h = imageShape.get(2);
    float w = imageShape.get(3);
    List<ImageTargets> perImage = Targets.unpad(targets);
    if (perImage.size() != imageShape.get(0)) {
      throw new IllegalArgumentException(
          "targets: " + perImage.size() + " images but the batch has " + imageShape.get(0));
    }
    int a = (int) anchorsRel.getShape().get(0);
    NDList labels = new NDList();
    NDList offsets = new NDList();
    NDList masks = new NDList();
    NDArray scale =
        manager.create(new float[] {w, h, w, h}).toDevice(anchorsRel.getDevice(), false);
    for (ImageTargets t : perImage) {
      NDArray gt = t.boxes().toDevice(anchorsRel.getDevice(), false).div(scale);
      long[] cls = t.labels().toLongArray();
      long[] map = TinySsdTargets.assign(Boxes.iou(anchorsRel, gt), matchThreshold);
      long[] lab = new long[a];
      long[] index = new long[a];
      float[] m = new float[a * 4];
      for (int i = 0; i < a; i++) {
        if (map[i] >= 0) {
          lab[i] = cls[(int) map[i]];
          index[i] = map[i];
          Arrays.fill(m, 4 * i, 4 * i + 4, 1f);
        }
      }
      NDArray mask = manager.create(m, new Shape(a, 4)).toDevice(anchorsRel.getDevice(), false);
      NDArray off;
      if (cls.length == 0) {
        off = anchorsRel.zerosLike();
      } else {
        NDArray matched = gt.get(manager.create(index).toDevice(anchorsRel.getDevice(), false));
        off = TinySsdTargets.encode(anchorsRel, matched).mul(mask);
      }
      labels.add(manager.create(lab).toDevice(anchorsRel.getDevice(), false));
      offsets.add(off);
      masks.add(mask);
    }
    return new NDArray[] {NDArrays.stack(labels), NDArrays.stack(offsets), NDArrays.stack(masks)};
  }

  /**
   * Returns the shapes of the raw predictions of {@link #predict} for an input shape: {@code (N, A,
   * C + 1)} and {@code (N, A, 4)} (the detections of {@code forward} have data-dependent shapes).
   *
   * @param inputShapes {@code {(N, 3, H, W)}}
   * @return the class and box prediction shapes
   */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    long n = in.get(0);
    long h = in.get(2);
    long w = in.get(3);
    long total = 0;
    for (int i = 0; i < NUM_SCALES; i++) {
      if (i == NUM_SCALES - 1) {
        h = 1;
        w = 1;
      } else {
        int pools = i == 0 ? ((SequentialBlock) blocks[0]).getChildren().size() : 1;
        for (int k = 0; k < pools; k++) {
          h /= 2;
          w /= 2;
        }
      }
      total += h * w * numAnchorsPerLocation();
    }
    return new Shape[] {new Shape(n, total, numClasses + 1), new Shape(n, total, 4)};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] s = inputShapes;
    for (int i = 0; i < NUM_SCALES; i++) {
      blocks[i].initialize(manager, dataType, s);
      s = blocks[i].getOutputShapes(s);
      clsPredictors[i].initialize(manager, dataType, s);
      boxPredictors[i].initialize(manager, dataType, s);
    }
  }

  /** Builder for {@link TinySsd}. */
  public static final class Builder {
    private int numClasses = -1;
    private float[][] sizes = DEFAULT_SIZES;
    private float[] ratios = DEFAULT_RATIOS;
    private int[] baseChannels = {16, 32, 64};
    private int channels = 128;
    private LossType lossType = LossType.D2L;
    private float matchThreshold = 0.5f;
    private float nmsThreshold = 0.5f;
    private float scoreThreshold = 0.009999999f;
    private int maxDetections = -1;
    private MultiBoxLoss multiBoxLoss = MultiBoxLoss.builder().build();

    private Builder() {}

    /**
     * Sets the number of object classes, background excluded (required).
     *
     * @param numClasses at least 1
     * @return this builder
     */
    public Builder setNumClasses(int numClasses) {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
      }
      this.numClasses = numClasses;
      return this;
    }

    /**
     * Sets the anchor sizes, one array per scale (default D2L's).
     *
     * @param sizes five arrays of relative sizes, all of one length
     * @return this builder
     */
    public Builder optSizes(float[][] sizes) {
      if (sizes == null || sizes.length != NUM_SCALES) {
        throw new IllegalArgumentException("sizes must have " + NUM_SCALES + " scales");
      }
      this.sizes = sizes.clone();
      return this;
    }

    /**
     * Sets the anchor ratios (default {@code 1, 2, 0.5}).
     *
     * @param ratios the width/height ratios
     * @return this builder
     */
    public Builder optRatios(float... ratios) {
      this.ratios = ratios.clone();
      return this;
    }

    /**
     * Sets the channels of the base net's three blocks (default 16, 32, 64) and of the later
     * down-sampling blocks (default 128).
     *
     * @param baseChannels three channel counts
     * @param channels the channels of {@code blk_1..blk_3}
     * @return this builder
     */
    public Builder optChannels(int[] baseChannels, int channels) {
      if (baseChannels == null || baseChannels.length != 3 || channels < 1) {
        throw new IllegalArgumentException(
            "baseChannels must have 3 entries and channels >= 1, got "
                + Arrays.toString(baseChannels)
                + ", "
                + channels);
      }
      this.baseChannels = baseChannels.clone();
      this.channels = channels;
      return this;
    }

    /**
     * Selects the training loss (default {@link LossType#D2L}).
     *
     * @param lossType the loss
     * @return this builder
     */
    public Builder optLossType(LossType lossType) {
      if (lossType == null) {
        throw new IllegalArgumentException("lossType must not be null");
      }
      this.lossType = lossType;
      return this;
    }

    /**
     * Sets the IoU at which an anchor is assigned to a ground truth (default 0.5).
     *
     * @param threshold the IoU threshold
     * @return this builder
     */
    public Builder optMatchThreshold(float threshold) {
      this.matchThreshold = threshold;
      return this;
    }

    /**
     * Sets the class-agnostic NMS IoU (default D2L's 0.5).
     *
     * @param threshold the IoU threshold
     * @return this builder
     */
    public Builder optNmsThreshold(float threshold) {
      this.nmsThreshold = threshold;
      return this;
    }

    /**
     * Sets the minimum score of a detection (default D2L's 0.009999999).
     *
     * @param threshold the score threshold
     * @return this builder
     */
    public Builder optScoreThreshold(float threshold) {
      this.scoreThreshold = threshold;
      return this;
    }

    /**
     * Caps the detections per image (default -1: no cap, as D2L).
     *
     * @param maxDetections the cap, or -1
     * @return this builder
     */
    public Builder optMaxDetections(int maxDetections) {
      this.maxDetections = maxDetections;
      return this;
    }

    /**
     * Sets the loss {@link LossType#MULTIBOX} computes (default {@link MultiBoxLoss} with
     * torchvision's SSD settings).
     *
     * @param loss the MultiBox loss
     * @return this builder
     */
    public Builder optMultiBoxLoss(MultiBoxLoss loss) {
      if (loss == null) {
        throw new IllegalArgumentException("loss must not be null");
      }
      this.multiBoxLoss = loss;
      return this;
    }

    /**
     * Builds the model.
     *
     * @return the model block
     */
    public TinySsd build() {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be set (>= 1)");
      }
      return new TinySsd(this);
    }
  }
}
