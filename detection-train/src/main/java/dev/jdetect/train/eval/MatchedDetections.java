package dev.jdetect.train.eval;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The outcome of matching detections to ground truth image by image, before the ranking over all
 * images: for each group (VOC: a class; COCO: a class and size range) one record per detection
 * (score, image key, position within the image, match flags) and the number of ground-truth objects
 * that count. Partial results of disjoint image sets {@link #merge} into the result of their union,
 * in any order and grouping, so the matching can run on several machines and the ranking once.
 *
 * <p>Records are ranked by descending score, then ascending image key, then ascending position: the
 * order the single-process evaluators rank detections in. Obtain one from {@link
 * VocEvaluator#newMatches()} or {@link CocoEvaluator#newMatches()}. Not thread-safe.
 */
public final class MatchedDetections implements Serializable {

  private static final long serialVersionUID = 1L;

  private final Group[] groups;

  MatchedDetections(int numGroups) {
    this.groups = new Group[numGroups];
    for (int i = 0; i < numGroups; i++) {
      groups[i] = new Group();
    }
  }

  /** The records of one group, in growable parallel arrays. */
  static final class Group implements Serializable {
    private static final long serialVersionUID = 1L;
    long positives;
    int size;
    double[] scores = new double[0];
    long[] keys = new long[0];
    int[] positions = new int[0];
    int[] flags = new int[0];

    void add(double score, long key, int position, int flag) {
      if (size == scores.length) {
        int cap = Math.max(8, 2 * size);
        scores = Arrays.copyOf(scores, cap);
        keys = Arrays.copyOf(keys, cap);
        positions = Arrays.copyOf(positions, cap);
        flags = Arrays.copyOf(flags, cap);
      }
      scores[size] = score;
      keys[size] = key;
      positions[size] = position;
      flags[size] = flag;
      size++;
    }

    /** Record indexes in rank order: descending score, ascending key, ascending position. */
    Integer[] ranked() {
      Integer[] order = new Integer[size];
      for (int i = 0; i < size; i++) {
        order[i] = i;
      }
      Arrays.sort(
          order,
          (a, b) -> {
            int c = EvalArrays.descending(scores[a], scores[b]);
            if (c == 0) {
              c = Long.compare(keys[a], keys[b]);
            }
            return c != 0 ? c : Integer.compare(positions[a], positions[b]);
          });
      return order;
    }
  }

  /** The group at {@code index}. */
  Group group(int index) {
    return groups[index];
  }

  /**
   * Returns the number of groups (VOC: C; COCO: C times the four size ranges).
   *
   * @return the count
   */
  public int numGroups() {
    return groups.length;
  }

  /**
   * Returns the number of detection records over all groups.
   *
   * @return the count
   */
  public long numRecords() {
    long n = 0;
    for (Group g : groups) {
      n += g.size;
    }
    return n;
  }

  /**
   * Adds the records of {@code other} (matched on a disjoint set of images) to this one.
   *
   * @param other the other partial result, from an evaluator with the same settings
   * @return this
   * @throws IllegalArgumentException if the two have different numbers of groups
   */
  public MatchedDetections merge(MatchedDetections other) {
    if (other.groups.length != groups.length) {
      throw new IllegalArgumentException(
          "cannot merge matches with "
              + other.groups.length
              + " groups into matches with "
              + groups.length
              + " (evaluators of different class counts or kinds)");
    }
    for (int i = 0; i < groups.length; i++) {
      Group g = groups[i];
      Group o = other.groups[i];
      g.positives += o.positives;
      for (int k = 0; k < o.size; k++) {
        g.add(o.scores[k], o.keys[k], o.positions[k], o.flags[k]);
      }
    }
    return this;
  }
}
