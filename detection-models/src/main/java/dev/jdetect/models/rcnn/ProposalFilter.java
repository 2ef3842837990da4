package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.nms.Nms;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the proposals among the decoded anchors of a batch (torchvision's {@code
 * RegionProposalNetwork.filter_proposals}). Per image: the best {@code preNmsTopN} anchors of every
 * level, clipped to the image; boxes narrower or lower than the minimum size and, with a positive
 * score threshold, those scoring below it are dropped; NMS runs within each level; the best {@code
 * postNmsTopN} remain. The scores of the proposals are the objectness probabilities.
 *
 * <p>Defaults follow torchvision: pre-NMS top-n 2000 (training) / 1000 (inference), post-NMS top-n
 * 2000 / 1000, NMS 0.7, minimum size 1e-3, score threshold 0. {@link #classicBuilder()} gives the
 * original paper's 12000 / 6000 and 2000 / 300 with a minimum size of 16 pixels of the image as
 * given.
 */
public final class ProposalFilter {

  private final int preNmsTopNTrain;
  private final int preNmsTopNTest;
  private final int postNmsTopNTrain;
  private final int postNmsTopNTest;
  private final float nmsThreshold;
  private final float scoreThreshold;
  private final float minSize;
  private final boolean minSizeInOriginalPixels;

  private ProposalFilter(Builder b) {
    this.preNmsTopNTrain = b.preNmsTopNTrain;
    this.preNmsTopNTest = b.preNmsTopNTest;
    this.postNmsTopNTrain = b.postNmsTopNTrain;
    this.postNmsTopNTest = b.postNmsTopNTest;
    this.nmsThreshold = b.nmsThreshold;
    this.scoreThreshold = b.scoreThreshold;
    this.minSize = b.minSize;
    this.minSizeInOriginalPixels = b.minSizeInOriginalPixels;
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
   * Returns a builder preset to the original paper: top-n 12000 / 2000 (training) and 6000 / 300
   * (inference), minimum size 16 in the pixels of the image as given.
   *
   * @return a new builder
   */
  public static Builder classicBuilder() {
    return new Builder()
        .optPreNmsTopN(12000, 6000)
        .optPostNmsTopN(2000, 300)
        .optMinSize(16f)
        .optMinSizeInOriginalPixels(true);
  }

  /**
   * Filters the anchors of a batch into proposals.
   *
   * @param boxes {@code (N, T, 4)} decoded anchors, levels concatenated
   * @param logits {@code (N, T)} sigmoid objectness logits (anchors are ranked by logit), or {@code
   *     (N, T, 2)} softmax (background, object) logits (anchors are ranked by probability)
   * @param anchorsPerLevel the number of anchors of each level, summing to {@code T}
   * @param imageSizes {@code {h, w}} of every image after resizing (clip bounds)
   * @param resizeScales the resize factor of every image, used when the minimum size is in the
   *     pixels of the image as given; {@code null} measures it in resized pixels
   * @param training whether to use the training top-n settings
   * @return the proposals of every image, on the boxes' manager
   * @throws IllegalArgumentException if the shapes, level counts or image counts disagree
   */
  public List<Proposals> filter(
      NDArray boxes,
      NDArray logits,
      int[] anchorsPerLevel,
      List<int[]> imageSizes,
      float[] resizeScales,
      boolean training) {
    checkInputs(boxes, logits, anchorsPerLevel, imageSizes, resizeScales);
    int numImages = imageSizes.size();
    List<Proposals> out = new ArrayList<>(numImages);
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray detached = logits.stopGradient();
      boolean softmax = detached.getShape().dimension() == 3;
      NDArray scores = softmax ? detached.softmax(2).get(":, :, 1") : Activation.sigmoid(detached);
      NDArray ranking = softmax ? scores : detached;
      NDArray levels =
          levelIds(boxes.getManager(), anchorsPerLevel).toDevice(boxes.getDevice(), false);
      for (int i = 0; i < numImages; i++) {
        NDArray keep = topPerLevel(ranking.get(i), anchorsPerLevel, training);
        float minSide = minSize;
        if (minSizeInOriginalPixels && resizeScales != null) {
          minSide = minSize * resizeScales[i];
        }
        Proposals p =
            filterImage(
                boxes.get(i).stopGradient().get(keep),
                scores.get(i).get(keep),
                levels.get(keep),
                imageSizes.get(i),
                minSide,
                training);
        NDScope.unregister(p.boxes(), p.scores());
        out.add(p);
      }
    }
    for (Proposals p : out) {
      NDScope.register(p.boxes());
      NDScope.register(p.scores());
    }
    return out;
  }

  private static void checkInputs(
      NDArray boxes,
      NDArray logits,
      int[] anchorsPerLevel,
      List<int[]> imageSizes,
      float[] resizeScales) {
    Shape b = boxes.getShape();
    Shape l = logits.getShape();
    long total = 0;
    for (int count : anchorsPerLevel) {
      total += count;
    }
    boolean logitsFit =
        (l.dimension() == 2 || (l.dimension() == 3 && l.get(2) == 2))
            && l.get(0) == b.get(0)
            && l.get(1) == b.get(1);
    if (b.dimension() != 3 || b.get(2) != 4 || !logitsFit || b.get(1) != total) {
      throw new IllegalArgumentException(
          "boxes must be (N, T, 4) and logits (N, T) or (N, T, 2) with T = "
              + total
              + " anchors over the levels, got boxes "
              + b
              + ", logits "
              + l);
    }
    if (imageSizes.size() != b.get(0)
        || (resizeScales != null && resizeScales.length != b.get(0))) {
      throw new IllegalArgumentException(
          "a batch of "
              + b.get(0)
              + " images needs as many image sizes and resize scales, got "
              + imageSizes.size()
              + " and "
              + (resizeScales == null ? "none" : resizeScales.length));
    }
  }

  /** Indices of the best {@code preNmsTopN} anchors of every level of one image. */
  private NDArray topPerLevel(NDArray ranking, int[] anchorsPerLevel, boolean training) {
    int preNms = training ? preNmsTopNTrain : preNmsTopNTest;
    NDList picked = new NDList(anchorsPerLevel.length);
    int offset = 0;
    for (int count : anchorsPerLevel) {
      int k = Math.min(preNms, count);
      NDArray part = ranking.get(offset + ":" + (offset + count));
      NDArray idx = part.topK(k, 0, true, true).get(1).toType(DataType.INT64, false);
      picked.add(offset == 0 ? idx : idx.add(offset));
      offset += count;
    }
    return picked.size() == 1 ? picked.get(0) : NDArrays.concat(picked, 0);
  }

  /** Clip, remove small, score threshold, NMS per level, post-NMS top-n. */
  private Proposals filterImage(
      NDArray boxes,
      NDArray scores,
      NDArray levels,
      int[] imageSize,
      float minSide,
      boolean training) {
    boxes = Boxes.clip(boxes, imageSize[0], imageSize[1]);
    NDArray keep = Boxes.removeSmall(boxes, minSide);
    boxes = boxes.get(keep);
    scores = scores.get(keep);
    levels = levels.get(keep);
    if (scoreThreshold > 0) {
      NDArray above = scores.gte(scoreThreshold).nonzero().squeeze(1);
      boxes = boxes.get(above);
      scores = scores.get(above);
      levels = levels.get(above);
    }
    NDArray kept = Nms.batchedNms(boxes, scores, levels, nmsThreshold);
    int postNms = training ? postNmsTopNTrain : postNmsTopNTest;
    if (kept.getShape().get(0) > postNms) {
      kept = kept.get(":" + postNms);
    }
    return new Proposals(boxes.get(kept), scores.get(kept));
  }

  private static NDArray levelIds(NDManager manager, int[] anchorsPerLevel) {
    int total = 0;
    for (int count : anchorsPerLevel) {
      total += count;
    }
    long[] ids = new long[total];
    int offset = 0;
    for (int l = 0; l < anchorsPerLevel.length; l++) {
      for (int j = 0; j < anchorsPerLevel[l]; j++) {
        ids[offset + j] = l;
      }
      offset += anchorsPerLevel[l];
    }
    return manager.create(ids);
  }

  /** A builder of {@link ProposalFilter} with torchvision's defaults. */
  public static final class Builder {

    private int preNmsTopNTrain = 2000;
    private int preNmsTopNTest = 1000;
    private int postNmsTopNTrain = 2000;
    private int postNmsTopNTest = 1000;
    private float nmsThreshold = 0.7f;
    private float scoreThreshold;
    private float minSize = 1e-3f;
    private boolean minSizeInOriginalPixels;

    private Builder() {}

    /**
     * Sets how many anchors per level are kept before NMS.
     *
     * @param train in training, default 2000
     * @param test in inference, default 1000
     * @return this builder
     */
    public Builder optPreNmsTopN(int train, int test) {
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
    public Builder optPostNmsTopN(int train, int test) {
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
    public Builder optNmsThreshold(float nmsThreshold) {
      this.nmsThreshold = nmsThreshold;
      return this;
    }

    /**
     * Sets the minimum objectness probability of a proposal.
     *
     * @param scoreThreshold default 0 (no threshold)
     * @return this builder
     */
    public Builder optScoreThreshold(float scoreThreshold) {
      this.scoreThreshold = scoreThreshold;
      return this;
    }

    /**
     * Sets the minimum proposal width and height, in resized-image pixels.
     *
     * @param minSize default 1e-3 (16 in the paper, see {@link #optMinSizeInOriginalPixels})
     * @return this builder
     */
    public Builder optMinSize(float minSize) {
      this.minSize = minSize;
      return this;
    }

    /**
     * Sets whether the minimum size is measured in the pixels of the image as given (scaled by each
     * image's resize factor, as the paper's implementation does) instead of the resized image's.
     * Applies when {@link ProposalFilter#filter} is given the resize scales.
     *
     * @param inOriginalPixels default false (true in {@link #classicBuilder()})
     * @return this builder
     */
    public Builder optMinSizeInOriginalPixels(boolean inOriginalPixels) {
      this.minSizeInOriginalPixels = inOriginalPixels;
      return this;
    }

    /**
     * Builds the filter.
     *
     * @return the filter
     * @throws IllegalArgumentException on invalid settings
     */
    public ProposalFilter build() {
      if (preNmsTopNTrain < 1
          || preNmsTopNTest < 1
          || postNmsTopNTrain < 1
          || postNmsTopNTest < 1) {
        throw new IllegalArgumentException("top-n values must be >= 1");
      }
      if (!(nmsThreshold > 0 && nmsThreshold <= 1)) {
        throw new IllegalArgumentException("nmsThreshold must be in (0, 1], got " + nmsThreshold);
      }
      if (!(minSize >= 0)) {
        throw new IllegalArgumentException("minSize must be >= 0, got " + minSize);
      }
      return new ProposalFilter(this);
    }
  }
}
