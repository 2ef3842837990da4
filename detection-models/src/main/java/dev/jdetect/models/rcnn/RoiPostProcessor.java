package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the box head's class logits and deltas into detections (torchvision's {@code
 * RoIHeads.postprocess_detections}): softmax, class-specific decoding against the proposals,
 * clipping to the image, background dropped, scores above the threshold kept, small boxes removed,
 * NMS per class, the best per image kept.
 *
 * <p>Defaults follow torchvision: box coder weights (10, 10, 5, 5), score {@code > 0.05}, minimum
 * size 1e-2, NMS 0.5, 100 detections per image.
 */
public final class RoiPostProcessor {

  private final BoxCoder boxCoder;
  private final float scoreThreshold;
  private final float nmsThreshold;
  private final int detectionsPerImage;
  private final float minSize;

  private RoiPostProcessor(Builder b) {
    this.boxCoder = b.boxCoder;
    this.scoreThreshold = b.scoreThreshold;
    this.nmsThreshold = b.nmsThreshold;
    this.detectionsPerImage = b.detectionsPerImage;
    this.minSize = b.minSize;
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
   * Returns the box coder that decodes the deltas.
   *
   * @return the coder
   */
  public BoxCoder getBoxCoder() {
    return boxCoder;
  }

  /**
   * Turns the predictions of the proposals of a batch into detections.
   *
   * @param classLogits {@code (K, C+1)} logits of all images' proposals, in order
   * @param boxRegression {@code (K, 4(C+1))} class-specific deltas
   * @param proposals the proposals per image (their counts split the rows)
   * @param imageSizes {@code {h, w}} per image after resizing
   * @return the detections per image, resized pixels, best first, on the logits' manager
   * @throws IllegalArgumentException if the rows, classes or image counts disagree
   */
  public List<Detections> process(
      NDArray classLogits, NDArray boxRegression, List<NDArray> proposals, List<int[]> imageSizes) {
    long rows = 0;
    for (NDArray p : proposals) {
      rows += p.getShape().get(0);
    }
    Shape ls = classLogits.getShape();
    Shape bs = boxRegression.getShape();
    if (ls.dimension() != 2
        || ls.get(1) < 2
        || ls.get(0) != rows
        || !bs.equals(new Shape(rows, 4 * ls.get(1)))
        || imageSizes.size() != proposals.size()) {
      throw new IllegalArgumentException(
          "class logits must be (K, C+1) and box regression (K, 4(C+1)) for the K = "
              + rows
              + " proposals of "
              + proposals.size()
              + " images with as many image sizes; got logits "
              + ls
              + ", box regression "
              + bs
              + ", "
              + imageSizes.size()
              + " image sizes");
    }
    NDManager manager = classLogits.getManager();
    int classes = (int) classLogits.getShape().get(1);
    int numClasses = classes - 1;
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
        NDArray boxes = decoded.get(offset + ":" + (offset + n));
        NDArray scores = probabilities.get(offset + ":" + (offset + n));
        offset += n;
        int[] size = imageSizes.get(i);
        boxes = Boxes.clip(boxes, size[0], size[1]);
        // one candidate per proposal and object class
        boxes = boxes.get(":, 1:, :").reshape(-1, 4);
        scores = scores.get(":, 1:").reshape(-1);
        NDArray labels = classRow.expandDims(0).broadcast(new Shape(n, numClasses)).reshape(-1);
        Detections d = select(boxes, scores, labels);
        NDScope.unregister(d.boxes(), d.scores(), d.labels());
        out.add(d);
      }
    }
    registerAll(out);
    return out;
  }

  /** Score threshold, remove small, NMS per class, top detections of one image. */
  private Detections select(NDArray boxes, NDArray scores, NDArray labels) {
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
    return new Detections(boxes.get(keep), scores.get(keep), labels.get(keep));
  }

  /** Hands detections made inside a finished scope to the caller's scope, if any. */
  static void registerAll(List<Detections> detections) {
    for (Detections d : detections) {
      NDScope.register(d.boxes());
      NDScope.register(d.scores());
      NDScope.register(d.labels());
    }
  }

  /** A builder of {@link RoiPostProcessor} with torchvision's defaults. */
  public static final class Builder {

    private BoxCoder boxCoder = BoxCoder.builder().optWeights(10f, 10f, 5f, 5f).build();
    private float scoreThreshold = 0.05f;
    private float nmsThreshold = 0.5f;
    private int detectionsPerImage = 100;
    private float minSize = 1e-2f;

    private Builder() {}

    /**
     * Sets the box coder that decodes the deltas; it must be the one the targets were encoded with
     * in training.
     *
     * @param boxCoder default weights (10, 10, 5, 5)
     * @return this builder
     */
    public Builder optBoxCoder(BoxCoder boxCoder) {
      this.boxCoder = boxCoder;
      return this;
    }

    /**
     * Sets the minimum class probability of a detection.
     *
     * @param scoreThreshold default 0.05 (kept if strictly greater)
     * @return this builder
     */
    public Builder optScoreThreshold(float scoreThreshold) {
      this.scoreThreshold = scoreThreshold;
      return this;
    }

    /**
     * Sets the per-class NMS threshold.
     *
     * @param nmsThreshold default 0.5
     * @return this builder
     */
    public Builder optNmsThreshold(float nmsThreshold) {
      this.nmsThreshold = nmsThreshold;
      return this;
    }

    /**
     * Sets the maximum number of detections per image.
     *
     * @param detectionsPerImage default 100
     * @return this builder
     */
    public Builder optDetectionsPerImage(int detectionsPerImage) {
      this.detectionsPerImage = detectionsPerImage;
      return this;
    }

    /**
     * Sets the minimum width and height of a detection.
     *
     * @param minSize default 1e-2
     * @return this builder
     */
    public Builder optMinSize(float minSize) {
      this.minSize = minSize;
      return this;
    }

    /**
     * Builds the post-processor.
     *
     * @return the post-processor
     * @throws IllegalArgumentException on invalid settings
     */
    public RoiPostProcessor build() {
      if (detectionsPerImage < 1) {
        throw new IllegalArgumentException(
            "detectionsPerImage must be >= 1, got " + detectionsPerImage);
      }
      if (!(nmsThreshold > 0 && nmsThreshold <= 1)) {
        throw new IllegalArgumentException("nmsThreshold must be in (0, 1], got " + nmsThreshold);
      }
      return new RoiPostProcessor(this);
    }
  }
}
