package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.Targets;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import dev.jdetect.train.data.ImageAnnotation;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * {@link TrainingData} over an {@link AnnotationSet} (VOC, COCO, CSV or generated): each sample is
 * loaded from disk, passed through a deterministic pre-processing transform (typically a resize to
 * the model's input size), then through a random augmentation that draws from the trainer's
 * generator, and the batch is stacked with padded {@link Targets}.
 *
 * <p>With caching on (the default) the pre-processed samples are kept on the Java heap (as float
 * arrays, not native memory) after their first load, so later epochs skip decoding and resizing;
 * this takes {@code 12 * H * W} bytes per image. All images of a batch must end up with the same
 * size (use a resize in the pre-processing or the augmentation).
 *
 * <p>Difficult objects and crowd regions are not used as training targets.
 */
public final class SampleData implements TrainingData {

  private final List<ImageAnnotation> images;
  private final DetectionTransform preprocess;
  private final DetectionTransform augmentation;
  private final boolean cache;
  private final Cached[] cached;

  private SampleData(Builder b) {
    this.images = b.annotations.getImages();
    this.preprocess = b.preprocess;
    this.augmentation = b.augmentation;
    this.cache = b.cache;
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
    Cached c = cache ? cached[index] : null;
    if (c == null) {
      try (NDManager scope = manager.newSubManager()) {
        DetectionSample s = DetectionSample.load(scope, images.get(index), false, false);
        if (preprocess != null) {
          s = preprocess.apply(s, new Random(index));
        }
        c = new Cached(s);
      }
      if (cache) {
        cached[index] = c;
      }
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
    private final int originalWidth;
    private final int originalHeight;

    Cached(DetectionSample s) {
      id = s.getImageId();
      image = s.getImage().toType(DataType.FLOAT32, false).toFloatArray();
      shape = s.getImage().getShape().getShape();
      boxes = s.getBoxes().toType(DataType.FLOAT32, false).toFloatArray();
      labels = s.getLabels().toType(DataType.INT64, false).toLongArray();
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
          m.create(new boolean[n]),
          m.create(new boolean[n]),
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
