package dev.jdetect.train.augment;

import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/** Applies transforms in order, sharing one {@link Random}. */
public final class Compose implements DetectionTransform {

  private final List<DetectionTransform> transforms;

  private Compose(List<DetectionTransform> transforms) {
    this.transforms = List.copyOf(transforms);
  }

  /**
   * Composes transforms.
   *
   * @param transforms the transforms, applied first to last
   * @return the composition
   */
  public static Compose of(DetectionTransform... transforms) {
    List<DetectionTransform> list = new ArrayList<>();
    for (DetectionTransform t : transforms) {
      list.add(Objects.requireNonNull(t, "transform"));
    }
    return new Compose(list);
  }

  /**
   * Returns the transforms.
   *
   * @return an unmodifiable list
   */
  public List<DetectionTransform> getTransforms() {
    return transforms;
  }

  /** {@inheritDoc} */
  @Override
  public DetectionSample apply(DetectionSample sample, Random random) {
    DetectionSample s = sample;
    for (DetectionTransform t : transforms) {
      s = t.apply(s, random);
    }
    return s;
  }

  /**
   * The SSD training augmentation of torchvision's detection references: photometric distort,
   * zoom-out (mean fill), IoU crop, horizontal flip, then resize to {@code width x height}.
   *
   * @param width the output width
   * @param height the output height
   * @return the pipeline
   */
  public static Compose ssdTraining(int width, int height) {
    return of(
        PhotometricDistort.builder().build(),
        ZoomOut.builder().build(),
        IouCrop.builder().build(),
        new HorizontalFlip(),
        new Resize(width, height));
  }

  /**
   * A light augmentation for small synthetic sets: horizontal flip and resize.
   *
   * @param width the output width
   * @param height the output height
   * @return the pipeline
   */
  public static Compose flipAndResize(int width, int height) {
    return of(new HorizontalFlip(), new Resize(width, height));
  }
}
