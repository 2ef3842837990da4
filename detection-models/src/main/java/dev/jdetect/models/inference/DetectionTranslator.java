package dev.jdetect.models.inference;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.BoundingBox;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import dev.jdetect.models.transform.BilinearResize;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Translates DJL {@link Image}s to the input of any jdetect {@link
 * dev.jdetect.models.DetectionModel} (SSD, TinySSD, Faster R-CNN, ...) and its detections to DJL
 * {@link DetectedObjects}.
 *
 * <p><b>Input.</b> Each image becomes a float32 RGB {@code (3, H, W)} array in {@code [0, 1]}
 * through {@link ImageTensors} (grey as stored, transparency over white); with an {@link
 * Builder#optInputSize input size} it is first resized to it as torchvision does ({@link
 * BilinearResize}, no antialiasing). A batch of images of one size is stacked; images of different
 * sizes stay a list ({@link ImageListBatchifier}), so they share a batch and the model's own
 * transform resizes each as it would alone.
 *
 * <p><b>Output.</b> Class names come from the class list (label {@code k} is entry {@code k - 1}).
 * Boxes are DJL {@link Rectangle}s relative to the image, as {@link DetectedObjects} documents:
 * {@code x = x1 / width}, {@code y = y1 / height}, {@code width = (x2 - x1) / width}, {@code height
 * = (y2 - y1) / height}, clipped to {@code [0, 1]}; multiply by the image's own size for pixels.
 * Detections below the threshold are dropped, then at most {@code maxDetections} of the highest
 * scores are kept.
 *
 * <p>A translator holds only its settings, so one instance serves every predictor of a model at
 * once.
 */
public final class DetectionTranslator implements Translator<Image, DetectedObjects> {

  private static final String SIZES = "jdetect.inputSizes";
  private static final Batchifier BATCHIFIER = new ImageListBatchifier();

  private final List<String> classes;
  private final float threshold;
  private final int maxDetections;
  private final int width;
  private final int height;

  private DetectionTranslator(Builder b) {
    this.classes = List.copyOf(b.classes);
    this.threshold = b.threshold;
    this.maxDetections = b.maxDetections;
    this.width = b.width;
    this.height = b.height;
  }

  /**
   * Returns a builder; the class names are required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the class names.
   *
   * @return names of labels 1..C
   */
  public List<String> getClasses() {
    return classes;
  }

  /**
   * Returns the score threshold.
   *
   * @return detections with lower scores are dropped
   */
  public float getThreshold() {
    return threshold;
  }

  /**
   * Returns the largest number of detections per image.
   *
   * @return the limit
   */
  public int getMaxDetections() {
    return maxDetections;
  }

  /** {@inheritDoc} */
  @Override
  public Batchifier getBatchifier() {
    return BATCHIFIER;
  }

  /** {@inheritDoc} */
  @Override
  public NDList processInput(TranslatorContext ctx, Image input) {
    return batchProcessInput(ctx, List.of(input));
  }

  /** {@inheritDoc} */
  @Override
  public DetectedObjects processOutput(TranslatorContext ctx, NDList list) {
    return batchProcessOutput(ctx, list).get(0);
  }

  /** {@inheritDoc} */
  @Override
  public NDList batchProcessInput(TranslatorContext ctx, List<Image> inputs) {
    NDList[] images = new NDList[inputs.size()];
    List<int[]> sizes = new ArrayList<>(inputs.size());
    for (Image image : inputs) {
      NDArray chw = ImageTensors.toChw(ctx.getNDManager(), Objects.requireNonNull(image, "image"));
      if (width > 0) {
        chw = BilinearResize.resize(chw, height, width, false);
      }
      sizes.add(new int[] {(int) chw.getShape().get(1), (int) chw.getShape().get(2)});
      images[sizes.size() - 1] = new NDList(chw);
    }
    // one context serves the whole batch, so the sizes travel as one list
    ctx.setAttachment(SIZES, sizes);
    return BATCHIFIER.batchify(images);
  }

  /** {@inheritDoc} */
  @Override
  @SuppressWarnings("unchecked")
  public List<DetectedObjects> batchProcessOutput(TranslatorContext ctx, NDList list) {
    List<int[]> sizes = (List<int[]>) ctx.getAttachment(SIZES);
    NDList[] perImage = BATCHIFIER.unbatchify(list);
    if (sizes == null || sizes.size() != perImage.length) {
      throw new IllegalStateException(
          "model returned detections for "
              + perImage.length
              + " images, expected "
              + (sizes == null ? 0 : sizes.size()));
    }
    List<DetectedObjects> out = new ArrayList<>(perImage.length);
    for (int i = 0; i < perImage.length; i++) {
      out.add(toDetectedObjects(perImage[i], sizes.get(i)[0], sizes.get(i)[1]));
    }
    return out;
  }

  private DetectedObjects toDetectedObjects(
      NDList detections, float imageHeight, float imageWidth) {
    float[] boxes = detections.get(0).toType(DataType.FLOAT32, false).toFloatArray();
    float[] scores = detections.get(1).toType(DataType.FLOAT32, false).toFloatArray();
    long[] labels = detections.get(2).toType(DataType.INT64, false).toLongArray();
    List<String> names = new ArrayList<>();
    List<Double> probabilities = new ArrayList<>();
    List<BoundingBox> rectangles = new ArrayList<>();
    for (int i = 0; i < scores.length && names.size() < maxDetections; i++) {
      if (scores[i] < threshold) {
        continue;
      }
      int label = (int) labels[i];
      names.add(label >= 1 && label <= classes.size() ? classes.get(label - 1) : "class " + label);
      probabilities.add((double) scores[i]);
      double x1 = clamp(boxes[4 * i] / imageWidth);
      double y1 = clamp(boxes[4 * i + 1] / imageHeight);
      double x2 = clamp(boxes[4 * i + 2] / imageWidth);
      double y2 = clamp(boxes[4 * i + 3] / imageHeight);
      rectangles.add(new Rectangle(x1, y1, Math.max(0, x2 - x1), Math.max(0, y2 - y1)));
    }
    return new DetectedObjects(names, probabilities, rectangles);
  }

  private static double clamp(double v) {
    return Math.max(0.0, Math.min(1.0, v));
  }

  /** Builds a {@link DetectionTranslator}. */
  public static final class Builder {
    private List<String> classes;
    private float threshold;
    private int maxDetections = Integer.MAX_VALUE;
    private int width;
    private int height;

    private Builder() {}

    /**
     * Sets the class names (required).
     *
     * @param classes names of labels 1..C, background excluded
     * @return this builder
     */
    public Builder setClasses(List<String> classes) {
      this.classes = List.copyOf(classes);
      return this;
    }

    /**
     * Sets the score threshold (default 0: every detection the model returns).
     *
     * @param threshold in {@code [0, 1]}
     * @return this builder
     */
    public Builder optThreshold(float threshold) {
      if (!(threshold >= 0f && threshold <= 1f)) {
        throw new IllegalArgumentException("threshold must be in [0, 1], got " + threshold);
      }
      this.threshold = threshold;
      return this;
    }

    /**
     * Sets the largest number of detections kept per image (default: all).
     *
     * @param maxDetections at least 1
     * @return this builder
     */
    public Builder optMaxDetections(int maxDetections) {
      if (maxDetections < 1) {
        throw new IllegalArgumentException(
            "maxDetections must be at least 1, got " + maxDetections);
      }
      this.maxDetections = maxDetections;
      return this;
    }

    /**
     * Resizes every image to this size before the model sees it (default: images as given).
     *
     * @param width pixels, or 0 together with height 0 for images as given
     * @param height pixels
     * @return this builder
     */
    public Builder optInputSize(int width, int height) {
      if (width < 0 || height < 0 || (width == 0) != (height == 0)) {
        throw new IllegalArgumentException(
            "width and height must both be positive or both 0, got " + width + "x" + height);
      }
      this.width = width;
      this.height = height;
      return this;
    }

    /**
     * Builds the translator.
     *
     * @return the translator
     * @throws IllegalArgumentException if the class names are missing or empty
     */
    public DetectionTranslator build() {
      if (classes == null || classes.isEmpty()) {
        throw new IllegalArgumentException("class names are required");
      }
      return new DetectionTranslator(this);
    }
  }
}
