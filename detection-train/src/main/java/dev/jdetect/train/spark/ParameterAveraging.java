package dev.jdetect.train.spark;

import ai.djl.ndarray.NDManager;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.TrainingListener;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.data.TrainingData;
import java.util.Random;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A worker's side of data-parallel training: after every K-th step, and after the last step of
 * every epoch (so that checkpoints hold the common parameters), the workers' parameters are
 * replaced by their mean. Package-private.
 *
 * <p>DJL allows one gradient collector per process, and the engine has one random generator, so
 * workers that share a JVM (local mode, or executors with several task slots) take turns for their
 * steps and their model initialisation ({@link #exclusively}): the step lock is taken when the
 * trainer loads a batch ({@link #guard}) and released when it reports the finished step, before the
 * exchange (which waits for the other workers).
 */
final class ParameterAveraging implements TrainingListener {

  private static final ReentrantLock STEP_LOCK = new ReentrantLock();

  private final ParameterExchange exchange;
  private final int every;

  ParameterAveraging(ParameterExchange exchange, int every) {
    this.exchange = exchange;
    this.every = every;
  }

  /**
   * Runs {@code task} under the step lock: model initialisation draws from the engine's one
   * generator, which workers sharing a JVM must not reseed and draw from at the same time.
   */
  static <T> T exclusively(Supplier<T> task) {
    STEP_LOCK.lock();
    try {
      return task.get();
    } finally {
      STEP_LOCK.unlock();
    }
  }

  /** The data, loading each batch under the step lock. */
  TrainingData guard(TrainingData data) {
    return new TrainingData() {
      @Override
      public int size() {
        return data.size();
      }

      @Override
      public TrainingBatch batch(NDManager manager, int[] indices, Random random) {
        try {
          STEP_LOCK.lockInterruptibly();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the step lock", e);
        }
        return data.batch(manager, indices, random);
      }
    };
  }

  @Override
  public void onStep(DetectionTrainer trainer, Step step) {
    release();
    if (step.globalStep() % every == 0 || step.indexInEpoch() + 1 == step.stepsInEpoch()) {
      exchange.average(trainer.getModel());
    }
  }

  /** Releases the step lock if this thread holds it (after a step, or when a step failed). */
  void release() {
    if (STEP_LOCK.isHeldByCurrentThread()) {
      STEP_LOCK.unlock();
    }
  }
}
