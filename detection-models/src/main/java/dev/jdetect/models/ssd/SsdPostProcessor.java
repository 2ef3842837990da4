package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
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

/**
 * Turns SSD head outputs into detections, as torchvision's {@code SSD.postprocess_detections}
 * followed by the transform's box rescaling: softmax over classes; decode every default box and
 * clip it to the input; per object class keep the scores above {@code scoreThreshold} and of those
 * the {@code topK} best; batched NMS per class at {@code nmsThreshold}; keep the {@code
 * detectionsPerImage} best; scale boxes to the original image size.
 */
public final class SsdPostProcessor implements SsdDecoder {

  private final float scoreThreshold;
  private final int topK;
  private final float nmsThreshold;
  private final int detectionsPerImage;
  private final BoxCoder boxCoder;

  private SsdPostProcessor(Builder b) {
    this.scoreThreshold = b.scoreThreshold;
    this.topK = b.topK;
    this.nmsThreshold = b.nmsThreshold;
    this.detectionsPerImage = b.detectionsPerImage;
    this.boxCoder = b.boxCoder;
  }

  /**
   * Creates a builder with torchvision's SSD settings: score threshold 0.01, top-k 400 per class,
   * NMS 0.45, 200 detections per image, box coder weights (10, 10, 5, 5).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the box coder used to decode deltas.
   *
   * @return the coder
   */
  public BoxCoder boxCoder() {
    return boxCoder;
  }

  /**
   * Post-processes a batch whose images all share one input size.
   *
   * @param clsLogits {@code (N, A, C + 1)} class logits (index 0 is background)
   * @param bboxRegression {@code (N, A, 4)} deltas
   * @param anchors {@code (A, 4)} default boxes in input pixels
   * @param inputHeight height of the (transformed) input the anchors refer to
   * @param inputWidth its width
   * @param originalHeight height of the images as given
   * @param originalWidth their width
   * @return one {@link Detections} per image, sorted by descending score, on {@code clsLogits}'
   *     manager
   * @throws IllegalArgumentException if the shapes do not agree
   */
  @Override
  public List<Detections> process(
      NDArray clsLogits,
      NDArray bboxRegression,
      NDArray anchors,
      int inputHeight,
      int inputWidth,
      int originalHeight,
      int originalWidth) {
    Shape cs = clsLogits.getShape();
    Shape bs = bboxRegression.getShape();
    if (cs.dimension() != 3
        || bs.dimension() != 3
        || bs.get(2) != 4
        || cs.get(0) != bs.get(0)
        || cs.get(1) != bs.get(1)
        || cs.get(2) < 2
        || !anchors.getShape().equals(new Shape(cs.get(1), 4))) {
      throw new IllegalArgumentException(
          "need clsLogits (N, A, C+1) with C >= 1, bboxRegression (N, A, 4), anchors (A, 4); got "
              + cs
              + ", "
              + bs
              + ", "
              + anchors.getShape());
    }
    int batch = (int) cs.get(0);
    long numAnchors = cs.get(1);
    int numClasses = (int) cs.get(2) - 1;
    int k = (int) Math.min(topK, numAnchors);
    NDManager manager = clsLogits.getManager();
    List<Detections> out = new ArrayList<>(batch);
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray scores = clsLogits.softmax(2);
      NDArray boxes = Boxes.clip(boxCoder.decode(bboxRegression, anchors), inputHeight, inputWidth);

      // Class id of every (class, rank) cell: row c holds c + 1.
      NDArray classIds =
          manager
              .arange(1, numClasses + 1, 1, DataType.INT64, clsLogits.getDevice())
              .reshape(numClasses, 1)
              .repeat(1, k)
              .reshape(-1);
      for (int i = 0; i < batch; i++) {
        // (C, A) scores of the object classes, best k per class.
        NDArray perClass = scores.get(i).get(":, 1:").transpose();
        NDList best = perClass.topK(k, 1, true, true);
        NDArray values = best.get(0).reshape(-1);
        NDArray indices = best.get(1).reshape(-1);
        NDArray keep = values.gt(scoreThreshold).nonzero().reshape(-1);
        NDArray candScores = values.get(keep);
        NDArray candBoxes = boxes.get(i).get(indices.get(keep));
        NDArray candLabels = classIds.get(keep);
        NDArray kept =
            Nms.batchedNms(
                candBoxes,
                candScores,
                candLabels,
                nmsThreshold,
                detectionsPerImage,
                Nms.Backend.AUTO);
        NDArray detBoxes = candBoxes.get(kept);
        if (originalHeight != inputHeight || originalWidth != inputWidth) {
          detBoxes =
              FixedSizeTransform.scaleBoxes(
                  detBoxes, inputHeight, inputWidth, originalHeight, originalWidth);
        }
        NDArray detScores = candScores.get(kept);
        NDArray detLabels = candLabels.get(kept);
        NDScope.unregister(detBoxes, detScores, detLabels);
        detBoxes.attach(manager);
        detScores.attach(manager);
        detLabels.attach(manager);
        out.add(new Detections(detBoxes, detScores, detLabels));
      }
    }
    return out;
  }

  /** Builder for {@link SsdPostProcessor}. */
  public static final class Builder {
    private float scoreThreshold = 0.01f;
    private int topK = 400;
    private float nmsThreshold = 0.45f;
    private int detectionsPerImage = 200;
    private BoxCoder boxCoder = BoxCoder.builder().optWeights(10, 10, 5, 5).build();

    private Builder() {}

    /**
     * Sets the minimum class score of a candidate (default 0.01).
     *
     * @param scoreThreshold the threshold
     * @return this builder
     */
    public Builder optScoreThreshold(float scoreThreshold) {
      this.scoreThreshold = scoreThreshold;
      return this;
    }

    /**
     * Sets the number of candidates kept per class before NMS (default 400).
     *
     * @param topK the count, {@code >= 1}
     * @return this builder
     */
    public Builder optTopK(int topK) {
      this.topK = topK;
      return this;
    }

    /**
     * Sets the NMS IoU threshold (default 0.45).
     *
     * @param nmsThreshold the threshold
     * @return this builder
     */
    public Builder optNmsThreshold(float nmsThreshold) {
      this.nmsThreshold = nmsThreshold;
      return this;
    }

    /**
     * Sets the number of detections kept per image (default 200).
     *
     * @param detectionsPerImage the count, {@code >= 0}
     * @return this builder
     */
    public Builder optDetectionsPerImage(int detectionsPerImage) {
      this.detectionsPerImage = detectionsPerImage;
      return this;
    }

    /**
     * Sets the box coder (default weights 10, 10, 5, 5); must equal the loss's.
     *
     * @param boxCoder the coder
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Builds the post-processor.
     *
     * @return the post-processor
     * @throws IllegalArgumentException if a setting is out of range
     */
    public SsdPostProcessor build() {
      if (!Float.isFinite(scoreThreshold)) {
        throw new IllegalArgumentException("scoreThreshold must be finite, got " + scoreThreshold);
      }
      if (topK < 1 || detectionsPerImage < 0) {
        throw new IllegalArgumentException(
            "topK must be >= 1 and detectionsPerImage >= 0, got "
                + topK
                + ", "
                + detectionsPerImage);
      }
      if (!(nmsThreshold >= 0) || !Float.isFinite(nmsThreshold)) {
        throw new IllegalArgumentException("nmsThreshold must be >= 0, got " + nmsThreshold);
      }
      if (boxCoder == null) {
        throw new IllegalArgumentException("boxCoder must not be null");
      }
      return new SsdPostProcessor(this);
    }
  }
}
