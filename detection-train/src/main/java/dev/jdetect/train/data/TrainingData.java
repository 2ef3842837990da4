package dev.jdetect.train.data;

import ai.djl.ndarray.NDManager;
import java.util.Random;

/**
 * The samples a {@code DetectionTrainer} learns from. The trainer decides the order (it shuffles
 * the indices with its own seeded {@link Random}) and asks for one batch at a time; the source
 * loads those samples, applies any augmentation drawing from the given {@code Random} only, and
 * stacks them.
 *
 * <p>Drawing all randomness from the trainer's generator is what makes a resumed run identical to
 * an uninterrupted one: the generator's state is part of every checkpoint.
 *
 * <p>The trainer may call {@link #batch} on a background thread that loads the next batches while a
 * step runs (one call at a time, in step order); an implementation must not rely on being called on
 * the trainer's thread, nor draw from the engine's random generator, which the steps use.
 */
public interface TrainingData {

  /**
   * Returns the number of samples.
   *
   * @return the sample count, positive
   */
  int size();

  /**
   * Loads and stacks the given samples.
   *
   * @param manager the manager of the step (all arrays must be attached to it)
   * @param indices the sample indices, each in {@code [0, size())}
   * @param random the trainer's generator, the only source of randomness for augmentation
   * @return the batch, with {@code indices.length} images
   */
  TrainingBatch batch(NDManager manager, int[] indices, Random random);
}
