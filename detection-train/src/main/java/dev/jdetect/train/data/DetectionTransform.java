package dev.jdetect.train.data;

import java.util.Random;

/**
 * A transform of a {@link DetectionSample} that moves the boxes with the pixels (the box-aware
 * augmentations live in {@code dev.jdetect.train.augment}).
 *
 * <p>Randomness comes only from the {@link Random} passed in, so a run is reproducible from a seed.
 * New arrays are created on the manager of the input sample ({@link DetectionSample#getManager()});
 * callers that want to free intermediates run the transform on a sample living in a sub-manager (as
 * {@link SampleData} does).
 */
@FunctionalInterface
public interface DetectionTransform {

  /**
   * Transforms a sample.
   *
   * @param sample the input sample (not modified)
   * @param random the source of randomness
   * @return the transformed sample (may be {@code sample} itself when nothing changes)
   */
  DetectionSample apply(DetectionSample sample, Random random);

  /**
   * Transforms a sample with a fresh {@code new Random(seed)}.
   *
   * @param sample the input sample
   * @param seed the seed
   * @return the transformed sample
   */
  default DetectionSample apply(DetectionSample sample, long seed) {
    return apply(sample, new Random(seed));
  }

  /**
   * Returns a transform that applies this one, then {@code next}, with the same {@link Random}.
   *
   * @param next the transform to apply second
   * @return the composition
   */
  default DetectionTransform andThen(DetectionTransform next) {
    return (s, r) -> next.apply(apply(s, r), r);
  }
}
