package dev.jdetect.train.eval;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/**
 * The detections of one image for evaluation: boxes {@code (x1, y1, x2, y2)} in the same pixels as
 * the ground truth, scores, and labels 1..C, kept in double precision.
 */
public final class Predictions {

  private final double[] boxes;
  private final double[] scores;
  private final int[] labels;

  private Predictions(double[] boxes, double[] scores, int[] labels) {
    this.boxes = boxes;
    this.scores = scores;
    this.labels = labels;
  }

  /**
   * Returns a builder for hand-made detections.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates predictions from a model's output arrays.
   *
   * @param boxes {@code (K, 4)}, any numeric dtype (read in double precision)
   * @param scores {@code (K)}, any numeric dtype (read in double precision)
   * @param labels integer {@code (K)}, 1..C
   * @return the predictions
   */
  public static Predictions of(NDArray boxes, NDArray scores, NDArray labels) {
    double[] b = EvalArrays.boxes(boxes, "boxes");
    int n = b.length / 4;
    EvalArrays.checkLength(scores, "scores", n);
    double[] s = EvalArrays.doubles(scores);
    EvalArrays.checkLength(labels, "labels", n);
    long[] l = EvalArrays.longs(labels);
    Builder builder = builder();
    for (int i = 0; i < n; i++) {
      builder.add((int) l[i], s[i], b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]);
    }
    return builder.build();
  }

  /**
   * Returns the number of detections.
   *
   * @return K
   */
  public int size() {
    return labels.length;
  }

  /**
   * Returns coordinate {@code k} (0..3) of box {@code i}.
   *
   * @param i the detection index
   * @param k 0 = x1, 1 = y1, 2 = x2, 3 = y2
   * @return the coordinate
   */
  public double box(int i, int k) {
    return boxes[4 * i + k];
  }

  /**
   * Returns the score of detection {@code i}.
   *
   * @param i the detection index
   * @return the score
   */
  public double score(int i) {
    return scores[i];
  }

  /**
   * Returns the label of detection {@code i}.
   *
   * @param i the detection index
   * @return the label
   */
  public int label(int i) {
    return labels[i];
  }

  /** Builder for {@link Predictions}. */
  public static final class Builder {
    private double[] boxes = new double[16];
    private double[] scores = new double[4];
    private int[] labels = new int[4];
    private int n;

    private Builder() {}

    /**
     * Adds a detection.
     *
     * @param label the label, {@code >= 1}
     * @param score the score (finite)
     * @param x1 left
     * @param y1 top
     * @param x2 right
     * @param y2 bottom
     * @return this builder
     */
    public Builder add(int label, double score, double x1, double y1, double x2, double y2) {
      EvalArrays.checkLabel(label);
      if (!Double.isFinite(score)) {
        throw new IllegalArgumentException("score must be finite, got " + score);
      }
      EvalArrays.checkBox(x1, y1, x2, y2);
      if (n == labels.length) {
        int cap = 2 * n;
        boxes = Arrays.copyOf(boxes, 4 * cap);
        scores = Arrays.copyOf(scores, cap);
        labels = Arrays.copyOf(labels, cap);
      }
      boxes[4 * n] = x1;
      boxes[4 * n + 1] = y1;
      boxes[4 * n + 2] = x2;
      boxes[4 * n + 3] = y2;
      scores[n] = score;
      labels[n] = label;
      n++;
      return this;
    }

    /**
     * Builds the predictions.
     *
     * @return the predictions
     */
    public Predictions build() {
      return new Predictions(
          Arrays.copyOf(boxes, 4 * n), Arrays.copyOf(scores, n), Arrays.copyOf(labels, n));
    }
  }
}
