package dev.jdetect.train;

import ai.djl.ndarray.NDManager;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.data.TrainingData;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Loads one epoch's batches in order, each into its own sub-manager of the trainer's manager, which
 * the step that uses it closes. With a positive prefetch depth the batches are loaded on a
 * background thread that stays at most that many finished batches ahead of the trainer; without,
 * each is loaded when asked for.
 *
 * <p>The loader is the only user of the trainer's generator while the epoch runs and it loads the
 * batches one after the other, so the augmentation draws the same numbers in the same order with or
 * without the thread. An error of the loading thread is thrown by {@link #next()} unchanged.
 */
final class BatchLoader implements AutoCloseable {

  /**
   * A loaded batch and the manager that owns its arrays.
   *
   * @param manager to be closed by the step
   * @param batch the batch
   */
  record Loaded(NDManager manager, TrainingBatch batch) {}

  /** What the loading thread hands over: a batch, or the error that ended it. */
  private record Handover(Loaded loaded, Throwable error) {}

  private final TrainingData data;
  private final NDManager parent;
  private final int[][] batches;
  private final Random random;
  private final BlockingQueue<Handover> queue;
  private final Thread thread;
  private int next;
  private volatile boolean stopped;

  /**
   * Starts loading.
   *
   * @param data the samples
   * @param parent the trainer's manager
   * @param batches each step's sample indices, in order
   * @param random the trainer's generator
   * @param prefetch how many finished batches may wait ahead of the trainer; 0 loads on the
   *     trainer's thread
   */
  BatchLoader(TrainingData data, NDManager parent, int[][] batches, Random random, int prefetch) {
    this.data = data;
    this.parent = parent;
    this.batches = batches;
    this.random = random;
    if (prefetch > 0) {
      queue = new ArrayBlockingQueue<>(prefetch);
      thread = new Thread(this::loadAll, "jdetect-batch-loader");
      thread.setDaemon(true);
      thread.start();
    } else {
      queue = null;
      thread = null;
    }
  }

  /**
   * Returns the next batch; the caller closes its manager.
   *
   * @throws RuntimeException whatever {@link TrainingData#batch} threw, or an {@link
   *     IllegalArgumentException} if the batch has the wrong size
   */
  Loaded next() {
    if (next >= batches.length) {
      throw new IllegalStateException("all " + batches.length + " batches were taken");
    }
    int step = next++;
    if (thread == null) {
      return load(step);
    }
    Handover h;
    try {
      h = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for batch " + step, e);
    }
    if (h.error() != null) {
      throw rethrow(h.error(), step);
    }
    return h.loaded();
  }

  private static RuntimeException rethrow(Throwable error, int step) {
    // keep the loader's exception (its type, message and stack); the trainer's stack goes beside it
    error.addSuppressed(
        new IllegalStateException("thrown while loading batch " + step + " on the loader thread"));
    if (error instanceof RuntimeException re) {
      return re;
    }
    if (error instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("loading batch " + step + " failed", error);
  }

  private void loadAll() {
    for (int step = 0; step < batches.length && !stopped; step++) {
      Handover h;
      try {
        h = new Handover(load(step), null);
      } catch (Throwable t) { // handed to the trainer, which rethrows it
        h = new Handover(null, t);
      }
      if (stopped) { // set before the interrupt, which the load may have swallowed
        release(h);
        return;
      }
      try {
        queue.put(h);
      } catch (InterruptedException e) {
        release(h);
        return;
      }
      if (h.error() != null) {
        return;
      }
    }
  }

  private static void release(Handover h) {
    if (h.loaded() != null) {
      h.loaded().manager().close();
    }
  }

  private Loaded load(int step) {
    int[] indices = batches[step];
    NDManager manager = parent.newSubManager();
    try {
      TrainingBatch batch = data.batch(manager, indices, random);
      if (batch.size() != indices.length) {
        throw new IllegalArgumentException(
            "TrainingData returned " + batch.size() + " images for " + indices.length + " indices");
      }
      return new Loaded(manager, batch);
    } catch (RuntimeException | Error e) {
      manager.close();
      throw e;
    }
  }

  /** Stops the loading thread, waits for it, and closes the batches nobody took. */
  @Override
  public void close() {
    if (thread == null) {
      return;
    }
    stopped = true;
    thread.interrupt();
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    for (Handover h = queue.poll(); h != null; h = queue.poll()) {
      release(h);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
