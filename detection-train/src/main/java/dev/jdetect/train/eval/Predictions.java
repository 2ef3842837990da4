package dev.jdetect.train.eval;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/**
 * The detections of one image for evaluation: boxes {@code (x1, y1, x2, y2)} in the same pixels as
 * the ground truth, scores, and labels 1..C.
 */
public final class Predictions {

  private final float[] boxes;
  private final float[] scores;
  private final int[] labels;

  private Predictions(float[] boxes, float[] scores, int[] labels) {
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
   * @param boxes float {@code (K, 4)}
   * @param scores float {@code (K)}
   * @param labels integer {@code (K)}, 1..C
   * @return the predictions
   */
  public static Predictions of(NDArray boxes, NDArray scores, NDArray labels) {
    float[] b = EvalArrays.boxes(boxes, "boxes");
    int n = b.length / 4;
    EvalArrays.checkLength(scores, "scores", n);
    float[] s = EvalArrays.floats(scores);
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
  public float box(int i, int k) {
    return boxes[4 * i + k];
  }

  /**
   * Returns the score of detection {@code i}.
   *
   * @param i the detection index
   * @return the score
   */
  public float score(int i) {
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
    private float[] boxes = new float[16];
    private float[] scores = new float[4];
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
    public Builder add(int label, float score, float x1, float y1, float x2, float y2) {
      EvalArrays.checkLabel(label);
      if (!Float.isFinite(score)) {
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
