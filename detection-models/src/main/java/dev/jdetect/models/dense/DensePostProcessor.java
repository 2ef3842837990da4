package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;

/**
 * The inference post-processing of torchvision's dense detectors ({@code
 * RetinaNet.postprocess_detections}, {@code FCOS.postprocess_detections}): on every pyramid level
 * of an image, every (anchor, class) score above the score threshold competes for the level's
 * {@code topkCandidates} places; the survivors' boxes are decoded against their anchors and clipped
 * to the image; then NMS runs per class over all levels and the best {@code detectionsPerImage} are
 * kept. A detection's label is its score's column. The defaults are RetinaNet's (0.05, 1000, NMS
 * 0.5, 300, {@link BoxCoder} with weights 1); FCOS sets its own.
 *
 * <p>The arithmetic that turns a flat (anchor, class) position into its anchor and class runs in
 * Java on at most {@code topkCandidates} indices per level.
 */
public final class DensePostProcessor {

  private final float scoreThreshold;
  private final int topkCandidates;
  private final float nmsThreshold;
  private final int detectionsPerImage;
  private final BinaryOperator<NDArray> boxDecoder;

  private DensePostProcessor(Builder b) {
    this.scoreThreshold = b.scoreThreshold;
    this.topkCandidates = b.topkCandidates;
    this.nmsThreshold = b.nmsThreshold;
    this.detectionsPerImage = b.detectionsPerImage;
    this.boxDecoder = b.boxDecoder;
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
   * Turns a head's scores and box deltas into detections.
   *
   * @param scores {@code (N, T, K)} class scores in [0, 1] of every anchor
   * @param deltas {@code (N, T, 4)} box deltas of every anchor
   * @param anchors {@code (T, 4)} anchors (the same for every image)
   * @param anchorsPerLevel the number of anchors of each level, summing to {@code T}
   * @param imageSizes {@code {h, w}} of each image after resizing; boxes are clipped to it
   * @return the detections per image, in resized pixels, in the caller's scope
   */
  public List<Detections> process(
      NDArray scores,
      NDArray deltas,
      NDArray anchors,
      int[] anchorsPerLevel,
      List<int[]> imageSizes) {
    List<Detections> out = new ArrayList<>(imageSizes.size());
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (int i = 0; i < imageSizes.size(); i++) {
        Detections d =
            image(scores.get(i), deltas.get(i), anchors, anchorsPerLevel, imageSizes.get(i));
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
        out.add(d);
      }
    }
    for (Detections d : out) {
      NDScope.register(d.boxes());
      NDScope.register(d.scores());
      NDScope.register(d.labels());
    }
    return out;
  }

  private Detections image(
      NDArray scores, NDArray deltas, NDArray anchors, int[] anchorsPerLevel, int[] imageSize) {
    NDManager manager = scores.getManager();
    int numClasses = (int) scores.getShape().get(1);
    NDList boxes = new NDList();
    NDList kept = new NDList();
    NDList labels = new NDList();
    int offset = 0;
    for (int count : anchorsPerLevel) {
      String rows = offset + ":" + (offset + count);
      offset += count;
      NDArray levelScores = scores.get(rows).reshape(-1);
      NDArray candidates = levelScores.gt(scoreThreshold).nonzero().reshape(-1);
      long above = candidates.getShape().get(0);
      if (above == 0) {
        continue;
      }
      int k = (int) Math.min(topkCandidates, above);
      NDList top = levelScores.get(candidates).topK(k, 0, true, true);
      long[] flat = candidates.get(top.get(1)).toLongArray();
      long[] anchorIndex = new long[k];
      long[] label = new long[k];
      for (int j = 0; j < k; j++) {
        anchorIndex[j] = flat[j] / numClasses;
        label[j] = flat[j] % numClasses;
      }
      NDArray picked = manager.create(anchorIndex).toDevice(scores.getDevice(), false);
      NDArray decoded =
          boxDecoder.apply(deltas.get(rows).get(picked), anchors.get(rows).get(picked));
      boxes.add(Boxes.clip(decoded, imageSize[0], imageSize[1]));
      kept.add(top.get(0));
      labels.add(manager.create(label).toDevice(scores.getDevice(), false));
    }
    if (boxes.isEmpty()) {
      return new Detections(
          manager.zeros(new Shape(0, 4), scores.getDataType()),
          manager.zeros(new Shape(0), scores.getDataType()),
          manager.zeros(new Shape(0), DataType.INT64));
    }
    NDArray allBoxes = NDArrays.concat(boxes, 0);
    NDArray allScores = NDArrays.concat(kept, 0);
    NDArray allLabels = NDArrays.concat(labels, 0);
    NDArray keep = Nms.batchedNms(allBoxes, allScores, allLabels, nmsThreshold);
    if (keep.getShape().get(0) > detectionsPerImage) {
      keep = keep.get(":" + detectionsPerImage);
    }
    return new Detections(allBoxes.get(keep), allScores.get(keep), allLabels.get(keep));
  }

  /** A builder of {@link DensePostProcessor} with torchvision's defaults. */
  public static final class Builder {

    private float scoreThreshold = 0.05f;
    private int topkCandidates = 1000;
    private float nmsThreshold = 0.5f;
    private int detectionsPerImage = 300;
    private BinaryOperator<NDArray> boxDecoder =
        BoxCoder.builder().optWeights(1f, 1f, 1f, 1f).build()::decode;

    private Builder() {}

    /**
     * Sets the score a class must exceed to be a candidate (default 0.05).
     *
     * @param scoreThreshold the threshold
     * @return this builder
     */
    public Builder optScoreThreshold(float scoreThreshold) {
      this.scoreThreshold = scoreThreshold;
      return this;
    }

    /**
     * Sets how many candidates each level keeps before NMS (default 1000).
     *
     * @param topkCandidates candidates per level, {@code >= 1}
     * @return this builder
     */
    public Builder optTopkCandidates(int topkCandidates) {
      this.topkCandidates = topkCandidates;
      return this;
    }

    /**
     * Sets the NMS IoU threshold (default 0.5).
     *
     * @param nmsThreshold the threshold
     * @return this builder
     */
    public Builder optNmsThreshold(float nmsThreshold) {
      this.nmsThreshold = nmsThreshold;
      return this;
    }

    /**
     * Sets how many detections an image keeps (default 300).
     *
     * @param detectionsPerImage detections, {@code >= 0}
     * @return this builder
     */
    public Builder optDetectionsPerImage(int detectionsPerImage) {
      this.detectionsPerImage = detectionsPerImage;
      return this;
    }

    /**
     * Sets how deltas become boxes: {@code (deltas (K, 4), anchors (K, 4)) -> boxes (K, 4)}
     * (default {@link BoxCoder#decode} with weights 1, 1, 1, 1).
     *
     * @param boxDecoder the decoder
     * @return this builder
     */
    public Builder optBoxDecoder(BinaryOperator<NDArray> boxDecoder) {
      this.boxDecoder = boxDecoder;
      return this;
    }

    /**
     * Builds the post-processor.
     *
     * @return the post-processor
     * @throws IllegalArgumentException on invalid settings
     */
    public DensePostProcessor build() {
      if (topkCandidates < 1 || detectionsPerImage < 0 || boxDecoder == null) {
        throw new IllegalArgumentException(
            "topkCandidates must be >= 1 (got "
                + topkCandidates
                + "), detectionsPerImage >= 0 (got "
                + detectionsPerImage
                + ") and boxDecoder set");
      }
      return new DensePostProcessor(this);
    }
  }
}
