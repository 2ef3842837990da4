package dev.jdetect.train.spark;

import ai.djl.ndarray.NDManager;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.data.TrainingData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * One worker's share of a data set: the samples are shuffled once with a seed, every worker takes
 * {@code floor(n / workers)} of them, disjoint from the others' (the last {@code n mod workers} are
 * left out so that every worker runs the same number of steps). Batches are loaded from the
 * underlying data.
 */
public final class ShardedData implements TrainingData {

  private final TrainingData all;
  private final int[] indices;

  /**
   * Creates worker {@code rank}'s share.
   *
   * @param all the whole data set, the same on every worker
   * @param rank the worker, {@code 0 <= rank < workers}
   * @param workers the number of workers
   * @param seed the seed of the assignment of samples to workers (the same on every worker)
   * @throws IllegalArgumentException if the rank is out of range or the data have fewer samples
   *     than workers
   */
  public ShardedData(TrainingData all, int rank, int workers, long seed) {
    if (workers < 1 || rank < 0 || rank >= workers) {
      throw new IllegalArgumentException(
          "rank must be in 0.." + (workers - 1) + " for " + workers + " workers, got " + rank);
    }
    int n = all.size();
    int share = n / workers;
    if (share < 1) {
      throw new IllegalArgumentException(
          "data have " + n + " samples, fewer than the " + workers + " workers");
    }
    List<Integer> order = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed));
    this.all = all;
    this.indices = new int[share];
    for (int i = 0; i < share; i++) {
      indices[i] = order.get(rank * share + i);
    }
  }

  /**
   * Returns the index in the whole data set of this share's sample {@code i}.
   *
   * @param i the index within the share
   * @return the index in the whole data set
   */
  public int sourceIndex(int i) {
    return indices[i];
  }

  @Override
  public int size() {
    return indices.length;
  }

  @Override
  public TrainingBatch batch(NDManager manager, int[] shareIndices, Random random) {
    int[] source = new int[shareIndices.length];
    for (int i = 0; i < source.length; i++) {
      source[i] = indices[shareIndices[i]];
    }
    return all.batch(manager, source, random);
  }
}
