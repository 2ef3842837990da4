package dev.jdetect.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.Targets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * The data pipeline of training and evaluation: {@link TrainingData} over an {@link AnnotationSet}
 * (from {@link VocReader}, {@link CocoReader}, {@link CsvReader} or generated). Each sample is
 * loaded from disk ({@link DetectionSample#load}), passed through a deterministic pre-processing
 * transform (typically a resize to the model's input size), then, for training, through a random
 * augmentation that draws from the trainer's generator; a batch is the stacked images plus padded
 * {@link Targets} (padding rows have label {@link Targets#PADDING} {@code -1}).
 *
 * <p>With caching on (the default) the pre-processed samples are kept on the Java heap (as float
 * arrays, not native memory) after their first load, so later epochs skip decoding and resizing;
 * this takes {@code 12 * H * W} bytes per image. All images of a batch must end up with the same
 * size (use a resize in the pre-processing or the augmentation).
 *
 * <p>Difficult objects (VOC) and crowd regions (COCO) are not training targets unless enabled;
 * evaluation loads them ({@link Builder#optIncludeDifficult}, {@link Builder#optIncludeCrowd}) and
 * the evaluator ignores them.
 */
public final class SampleData implements TrainingData {

  private final List<ImageAnnotation> images;
  private final DetectionTransform preprocess;
  private final DetectionTransform augmentation;
  private final boolean cache;
  private final boolean includeDifficult;
  private final boolean includeCrowd;
  private final Cached[] cached;

  private SampleData(Builder b) {
    this.images = b.annotations.getImages();
    this.preprocess = b.preprocess;
    this.augmentation = b.augmentation;
    this.cache = b.cache;
    this.includeDifficult = b.includeDifficult;
    this.includeCrowd = b.includeCrowd;
    this.cached = new Cached[images.size()];
  }

  /**
   * Returns a builder.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public int size() {
    return images.size();
  }

  /**
   * Loads one pre-processed (not augmented) sample.
   *
   * @param manager the manager of the sample's arrays
   * @param index the sample index
   * @return the sample
   */
  public DetectionSample sample(NDManager manager, int index) {
    Objects.checkIndex(index, images.size());
    Cached c = cached[index];
    if (c != null) {
      return c.toSample(manager);
    }
    try (NDManager scope = manager.newSubManager()) {
      DetectionSample s =
          DetectionSample.load(scope, images.get(index), includeDifficult, includeCrowd);
      if (preprocess != null) {
        s = preprocess.apply(s, new Random(index));
      }
      if (!cache) {
        return s.attach(manager);
      }
      c = new Cached(s);
      cached[index] = c;
    }
    return c.toSample(manager);
  }

  @Override
  public TrainingBatch batch(NDManager manager, int[] indices, Random random) {
    List<NDArray> pics = new ArrayList<>(indices.length);
    List<NDArray> boxes = new ArrayList<>(indices.length);
    List<NDArray> labels = new ArrayList<>(indices.length);
    Shape first = null;
    for (int index : indices) {
      DetectionSample s = sample(manager, index);
      if (augmentation != null) {
        s = augmentation.apply(s, random);
      }
      Shape shape = s.getImage().getShape();
      if (first == null) {
        first = shape;
      } else if (!first.equals(shape)) {
        throw new IllegalArgumentException(
            "images of a batch must have one size: sample "
                + index
                + " ("
                + images.get(index).getFile()
                + ") is "
                + shape
                + " but the first is "
                + first
                + "; add a Resize to the pre-processing");
      }
      pics.add(s.getImage());
      boxes.add(s.getBoxes());
      labels.add(s.getLabels());
    }
    NDArray stacked = NDArrays.stack(new NDList(pics));
    return new TrainingBatch(stacked, Targets.pad(manager, boxes, labels));
  }

  /** A pre-processed sample on the heap. */
  private static final class Cached {
    private final String id;
    private final float[] image;
    private final long[] shape;
    private final float[] boxes;
    private final long[] labels;
    private final boolean[] difficult;
    private final boolean[] crowd;
    private final int originalWidth;
    private final int originalHeight;

    Cached(DetectionSample s) {
      id = s.getImageId();
      image = s.getImage().toType(DataType.FLOAT32, false).toFloatArray();
      shape = s.getImage().getShape().getShape();
      boxes = s.getBoxes().toType(DataType.FLOAT32, false).toFloatArray();
      labels = s.getLabels().toType(DataType.INT64, false).toLongArray();
      difficult = s.getDifficult().toBooleanArray();
      crowd = s.getCrowd().toBooleanArray();
      originalWidth = s.getOriginalWidth();
      originalHeight = s.getOriginalHeight();
    }

    DetectionSample toSample(NDManager m) {
      int n = labels.length;
      return new DetectionSample(
          id,
          m.create(image, new Shape(shape)),
          m.create(boxes, new Shape(n, 4)),
          m.create(labels),
          m.create(difficult),
          m.create(crowd),
          originalWidth,
          originalHeight);
    }
  }

  /** Builds a {@link SampleData}. */
  public static final class Builder {
    private AnnotationSet annotations;
    private DetectionTransform preprocess;
    private DetectionTransform augmentation;
    private boolean cache = true;
    private boolean includeDifficult;
    private boolean includeCrowd;

    private Builder() {}

    /**
     * Sets the images and their annotations (required).
     *
     * @param annotations the annotation set
     * @return this builder
     */
    public Builder setAnnotations(AnnotationSet annotations) {
      this.annotations = annotations;
      return this;
    }

    /**
     * Sets the deterministic pre-processing (cached), e.g. {@code new Resize(256, 256)}.
     *
     * @param preprocess the transform, or {@code null}
     * @return this builder
     */
    public Builder optPreprocess(DetectionTransform preprocess) {
      this.preprocess = preprocess;
      return this;
    }

    /**
     * Sets the random augmentation, applied per step with the trainer's generator.
     *
     * @param augmentation the transform, or {@code null} (default)
     * @return this builder
     */
    public Builder optAugmentation(DetectionTransform augmentation) {
      this.augmentation = augmentation;
      return this;
    }

    /**
     * Turns the heap cache of pre-processed samples on or off.
     *
     * @param cache default true
     * @return this builder
     */
    public Builder optCache(boolean cache) {
      this.cache = cache;
      return this;
    }

    /**
     * Makes VOC difficult objects part of the samples (for evaluation; default false).
     *
     * @param includeDifficult whether to include them
     * @return this builder
     */
    public Builder optIncludeDifficult(boolean includeDifficult) {
      this.includeDifficult = includeDifficult;
      return this;
    }

    /**
     * Makes COCO crowd regions part of the samples (for evaluation; default false).
     *
     * @param includeCrowd whether to include them
     * @return this builder
     */
    public Builder optIncludeCrowd(boolean includeCrowd) {
      this.includeCrowd = includeCrowd;
      return this;
    }

    /**
     * Builds the data.
     *
     * @return the data
     * @throws IllegalArgumentException if no annotations are set or they hold no image
     */
    public SampleData build() {
      if (annotations == null || annotations.getImages().isEmpty()) {
        throw new IllegalArgumentException("annotations must be set and hold at least one image");
      }
      return new SampleData(this);
    }
  }
}
