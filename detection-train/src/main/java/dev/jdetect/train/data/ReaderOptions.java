package dev.jdetect.train.data;

import java.util.Objects;

/**
 * The options every annotation reader's builder takes: what to do with bad data, and with boxes
 * that stick out of their image.
 *
 * @param <B> the reader's builder, returned by every option for chaining
 */
public abstract class ReaderOptions<B extends ReaderOptions<B>> {

  ErrorPolicy errorPolicy = ErrorPolicy.FAIL;
  BoxPolicy boxPolicy;
  float boxTolerance = 1f;

  ReaderOptions() {}

  /**
   * Returns this builder as its own type.
   *
   * @return this builder
   */
  abstract B self();

  /**
   * Sets what to do with bad data. Default {@link ErrorPolicy#FAIL}.
   *
   * @param errorPolicy the policy
   * @return this builder
   */
  public B optErrorPolicy(ErrorPolicy errorPolicy) {
    this.errorPolicy = Objects.requireNonNull(errorPolicy, "errorPolicy");
    return self();
  }

  /**
   * Sets what to do with boxes that stick out of their image by more than the tolerance. Default
   * {@link BoxPolicy#ERROR} under {@link ErrorPolicy#FAIL} and {@link BoxPolicy#CLIP} under {@link
   * ErrorPolicy#SKIP_WITH_WARNING}.
   *
   * @param boxPolicy the policy
   * @return this builder
   */
  public B optBoxPolicy(BoxPolicy boxPolicy) {
    this.boxPolicy = Objects.requireNonNull(boxPolicy, "boxPolicy");
    return self();
  }

  /**
   * Sets how many pixels a box may stick out of its image before the box policy applies. Within the
   * tolerance VOC and CSV boxes are clipped to the image silently, and COCO boxes are kept as
   * written, as pycocotools evaluates them. Default 1.
   *
   * @param boxTolerance the tolerance in pixels, {@code >= 0}
   * @return this builder
   */
  public B optBoxTolerance(float boxTolerance) {
    this.boxTolerance = Problems.checkBoxTolerance(boxTolerance);
    return self();
  }

  /** A fresh problem collector for one read under these options. */
  Problems newProblems(boolean clipWithinTolerance) {
    return new Problems(errorPolicy, boxPolicy, clipWithinTolerance);
  }
}
