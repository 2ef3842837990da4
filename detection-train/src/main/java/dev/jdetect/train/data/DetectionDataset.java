package dev.jdetect.train.data;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A DJL {@link RandomAccessDataset} over an {@link AnnotationSet} (from {@link VocReader}, {@link
 * CocoReader}, {@link CsvReader} or built by hand), so that DJL's {@code Trainer} / {@code
 * EasyTrain} can iterate it.
 *
 * <p>Each {@link Record} holds data {@code [image]} (float32 {@code (3, H, W)} in {@code [0, 1]})
 * and labels {@code [boxes (N, 4) float32, labels (N) int64, difficult (N) boolean]} (see {@link
 * DetectionSample#toLabels()}). By default the label batchifier is a {@link DetectionBatchifier}
 * (padding rows have label -1) and the data batchifier stacks, so all images of a batch must have
 * the same size: add a resize transform for that, or set {@code optDataBatchifier(new
 * PaddedImageBatchifier(32))} to pad them (the batch data is then {@code [images, imageSizes]}).
 *
 * <p>Difficult objects (VOC) and crowd regions (COCO) are left out of the targets unless enabled.
 *
 * <p><b>Randomness.</b> The transform of item {@code i} gets {@code new Random(f(seed, i, k))}
 * where {@code k} counts how often item {@code i} has been fetched (so every epoch sees new
 * augmentations, and two runs with the same seed and access pattern see the same ones, whatever the
 * prefetch threads do). {@link #setEpoch(int)} sets every counter to an epoch number, which lets a
 * resumed run reproduce the augmentations of an uninterrupted run.
 */
public final class DetectionDataset extends RandomAccessDataset {

  private final AnnotationSet annotations;
  private final DetectionTransform transform;
  private final long seed;
  private final boolean includeDifficult;
  private final boolean includeCrowd;
  private final AtomicIntegerArray fetchCounts;

  private DetectionDataset(Builder b) {
    super(b);
    this.annotations = Objects.requireNonNull(b.annotations, "annotations must be set");
    this.transform = b.transform;
    this.seed = b.seed;
    this.includeDifficult = b.includeDifficult;
    this.includeCrowd = b.includeCrowd;
    this.fetchCounts = new AtomicIntegerArray(annotations.getImages().size());
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** {@inheritDoc} */
  @Override
  public Record get(NDManager manager, long index) {
    DetectionSample s = getSample(manager, index);
    return new Record(s.toData(), s.toLabels());
  }

  /**
   * Loads and transforms one sample (advances the item's fetch counter, like {@link #get}).
   *
   * @param manager the manager of the result
   * @param index the item index
   * @return the sample, attached to {@code manager}
   * @throws DatasetFormatException if the image is missing or corrupt
   */
  public DetectionSample getSample(NDManager manager, long index) {
    int i = checkIndex(index);
    int k = fetchCounts.getAndIncrement(i);
    return load(manager, i, transform == null ? null : new Random(mix(seed, i, k)));
  }

  /**
   * Loads one sample without any transform (for evaluation or inspection). Difficult and crowd
   * objects follow the builder settings.
   *
   * @param manager the manager of the result
   * @param index the item index
   * @return the sample, attached to {@code manager}
   * @throws DatasetFormatException if the image is missing or corrupt
   */
  public DetectionSample getRawSample(NDManager manager, long index) {
    return load(manager, checkIndex(index), null);
  }

  private DetectionSample load(NDManager manager, int i, Random random) {
    ImageAnnotation ann = annotations.getImages().get(i);
    try (NDManager sub = manager.newSubManager()) {
      DetectionSample s = DetectionSample.load(sub, ann, includeDifficult, includeCrowd);
      if (random != null) {
        s = transform.apply(s, random);
      }
      return s.attach(manager);
    }
  }

  private int checkIndex(long index) {
    if (index < 0 || index >= annotations.getImages().size()) {
      throw new IllegalArgumentException(
          "index must be in [0, " + annotations.getImages().size() + "), got " + index);
    }
    return (int) index;
  }

  static long mix(long seed, long index, long count) {
    long z = seed ^ (index * 0x9E3779B97F4A7C15L) ^ (count * 0xC2B2AE3D27D4EB4FL + 0x165667B1L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Sets every item's fetch counter to {@code epoch}, so the next fetch of each item draws the
   * augmentation it would draw in that (0-based) epoch of a run that fetches each item once per
   * epoch.
   *
   * @param epoch the epoch, {@code >= 0}
   */
  public void setEpoch(int epoch) {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
    }
    for (int i = 0; i < fetchCounts.length(); i++) {
      fetchCounts.set(i, epoch);
    }
  }

  /**
   * Returns the annotations this dataset reads.
   *
   * @return the annotation set
   */
  public AnnotationSet getAnnotations() {
    return annotations;
  }

  /** {@inheritDoc} */
  @Override
  protected long availableSize() {
    return annotations.getImages().size();
  }

  /** {@inheritDoc} Nothing to prepare: the annotations were read by the reader. */
  @Override
  public void prepare(Progress progress) {}

  /** Builder for {@link DetectionDataset}. */
  public static final class Builder extends BaseBuilder<Builder> {
    private AnnotationSet annotations;
    private DetectionTransform transform;
    private long seed;
    private boolean includeDifficult;
    private boolean includeCrowd;

    private Builder() {
      labelBatchifier = new DetectionBatchifier();
    }

    /** {@inheritDoc} */
    @Override
    protected Builder self() {
      return this;
    }

    /**
     * Sets the annotations to read. Required.
     *
     * @param annotations the annotation set
     * @return this builder
     */
    public Builder setAnnotations(AnnotationSet annotations) {
      this.annotations = annotations;
      return this;
    }

    /**
     * Sets the per-sample transform (augmentation and resize). Default none.
     *
     * @param transform the transform, or {@code null}
     * @return this builder
     */
    public Builder optTransform(DetectionTransform transform) {
      this.transform = transform;
      return this;
    }

    /**
     * Sets the seed of the transform randomness. Default 0.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets whether VOC difficult objects are training targets. Default false.
     *
     * @param includeDifficult whether to include them
     * @return this builder
     */
    public Builder optIncludeDifficult(boolean includeDifficult) {
      this.includeDifficult = includeDifficult;
      return this;
    }

    /**
     * Sets whether COCO crowd regions are training targets. Default false.
     *
     * @param includeCrowd whether to include them
     * @return this builder
     */
    public Builder optIncludeCrowd(boolean includeCrowd) {
      this.includeCrowd = includeCrowd;
      return this;
    }

    /**
     * Builds the dataset. Call {@link #setSampling(int, boolean)} first.
     *
     * @return the dataset
     */
    public DetectionDataset build() {
      return new DetectionDataset(this);
    }
  }
}
