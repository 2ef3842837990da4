package dev.jdetect.train.eval;

import ai.djl.ndarray.NDArray;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ObjectAnnotation;
import java.util.Arrays;

/**
 * The ground truth of one image for evaluation: boxes {@code (x1, y1, x2, y2)} in pixels, labels
 * 1..C, and per-object flags: {@code difficult} (VOC: neither a true nor a false positive when
 * matched) and {@code crowd} (COCO: matched without counting), plus the area COCO uses for its size
 * ranges (the box area unless given). Coordinates and areas are kept in double precision, as
 * pycocotools and the VOC devkit compute.
 */
public final class GroundTruth {

  private final double[] boxes;
  private final int[] labels;
  private final boolean[] difficult;
  private final boolean[] crowd;
  private final double[] areas;

  private GroundTruth(
      double[] boxes, int[] labels, boolean[] difficult, boolean[] crowd, double[] areas) {
    this.boxes = boxes;
    this.labels = labels;
    this.difficult = difficult;
    this.crowd = crowd;
    this.areas = areas;
  }

  /**
   * Returns a builder for hand-made ground truth.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates ground truth from arrays.
   *
   * @param boxes {@code (N, 4)}, any numeric dtype (read in double precision)
   * @param labels integer {@code (N)}, 1..C
   * @param difficult boolean {@code (N)}, or {@code null} for all false
   * @return the ground truth
   */
  public static GroundTruth of(NDArray boxes, NDArray labels, NDArray difficult) {
    return of(boxes, labels, difficult, null);
  }

  /**
   * Creates ground truth from arrays.
   *
   * @param boxes {@code (N, 4)}, any numeric dtype (read in double precision)
   * @param labels integer {@code (N)}, 1..C
   * @param difficult boolean {@code (N)}, or {@code null} for all false
   * @param crowd boolean {@code (N)}, or {@code null} for all false
   * @return the ground truth
   */
  public static GroundTruth of(NDArray boxes, NDArray labels, NDArray difficult, NDArray crowd) {
    double[] b = EvalArrays.boxes(boxes, "boxes");
    int n = b.length / 4;
    EvalArrays.checkLength(labels, "labels", n);
    long[] l = EvalArrays.longs(labels);
    boolean[] d = flags(difficult, "difficult", n);
    boolean[] c = flags(crowd, "crowd", n);
    Builder builder = builder();
    for (int i = 0; i < n; i++) {
      builder.add((int) l[i], b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3], d[i], c[i], -1);
    }
    return builder.build();
  }

  private static boolean[] flags(NDArray a, String name, int n) {
    if (a == null) {
      return new boolean[n];
    }
    EvalArrays.checkLength(a, name, n);
    return EvalArrays.booleans(a);
  }

  /**
   * Creates ground truth from a sample (its boxes, labels, difficult and crowd flags).
   *
   * @param sample the sample
   * @return the ground truth
   */
  public static GroundTruth of(DetectionSample sample) {
    return of(sample.getBoxes(), sample.getLabels(), sample.getDifficult(), sample.getCrowd());
  }

  /**
   * Creates ground truth from an annotation (all objects, with their flags and areas).
   *
   * @param annotation the annotation
   * @return the ground truth
   */
  public static GroundTruth of(ImageAnnotation annotation) {
    Builder b = builder();
    for (ObjectAnnotation o : annotation.getObjects()) {
      double[] box = o.getBoxAsDouble();
      b.add(
          o.getLabel(), box[0], box[1], box[2], box[3], o.isDifficult(), o.isCrowd(), o.getArea());
    }
    return b.build();
  }

  /**
   * Returns the number of objects.
   *
   * @return N
   */
  public int size() {
    return labels.length;
  }

  /**
   * Returns coordinate {@code k} (0..3) of box {@code i}.
   *
   * @param i the object index
   * @param k 0 = x1, 1 = y1, 2 = x2, 3 = y2
   * @return the coordinate
   */
  public double box(int i, int k) {
    return boxes[4 * i + k];
  }

  /**
   * Returns the label of object {@code i}.
   *
   * @param i the object index
   * @return the label
   */
  public int label(int i) {
    return labels[i];
  }

  /**
   * Returns whether object {@code i} is difficult.
   *
   * @param i the object index
   * @return the flag
   */
  public boolean isDifficult(int i) {
    return difficult[i];
  }

  /**
   * Returns whether object {@code i} is a crowd region.
   *
   * @param i the object index
   * @return the flag
   */
  public boolean isCrowd(int i) {
    return crowd[i];
  }

  /**
   * Returns the area of object {@code i} used for COCO size ranges.
   *
   * @param i the object index
   * @return the area
   */
  public double area(int i) {
    return areas[i];
  }

  /** Builder for {@link GroundTruth}. */
  public static final class Builder {
    private double[] boxes = new double[16];
    private int[] labels = new int[4];
    private boolean[] difficult = new boolean[4];
    private boolean[] crowd = new boolean[4];
    private double[] areas = new double[4];
    private int n;

    private Builder() {}

    /**
     * Adds an ordinary object.
     *
     * @param label the label, {@code >= 1}
     * @param x1 left
     * @param y1 top
     * @param x2 right
     * @param y2 bottom
     * @return this builder
     */
    public Builder add(int label, double x1, double y1, double x2, double y2) {
      return add(label, x1, y1, x2, y2, false, false, -1);
    }

    /**
     * Adds a VOC difficult object.
     *
     * @param label the label, {@code >= 1}
     * @param x1 left
     * @param y1 top
     * @param x2 right
     * @param y2 bottom
     * @return this builder
     */
    public Builder addDifficult(int label, double x1, double y1, double x2, double y2) {
      return add(label, x1, y1, x2, y2, true, false, -1);
    }

    /**
     * Adds a COCO crowd region.
     *
     * @param label the label, {@code >= 1}
     * @param x1 left
     * @param y1 top
     * @param x2 right
     * @param y2 bottom
     * @return this builder
     */
    public Builder addCrowd(int label, double x1, double y1, double x2, double y2) {
      return add(label, x1, y1, x2, y2, false, true, -1);
    }

    /**
     * Adds an object with all fields.
     *
     * @param label the label, {@code >= 1}
     * @param x1 left
     * @param y1 top
     * @param x2 right
     * @param y2 bottom
     * @param isDifficult the VOC difficult flag
     * @param isCrowd the COCO crowd flag
     * @param area the COCO area as given in the annotation file (pycocotools compares it in double
     *     precision with the size-range bounds), or a negative value for the box area
     * @return this builder
     */
    public Builder add(
        int label,
        double x1,
        double y1,
        double x2,
        double y2,
        boolean isDifficult,
        boolean isCrowd,
        double area) {
      EvalArrays.checkLabel(label);
      EvalArrays.checkBox(x1, y1, x2, y2);
      if (Double.isNaN(area) || Double.isInfinite(area)) {
        throw new IllegalArgumentException("area must be finite, got " + area);
      }
      if (n == labels.length) {
        int cap = 2 * n;
        boxes = Arrays.copyOf(boxes, 4 * cap);
        labels = Arrays.copyOf(labels, cap);
        difficult = Arrays.copyOf(difficult, cap);
        crowd = Arrays.copyOf(crowd, cap);
        areas = Arrays.copyOf(areas, cap);
      }
      boxes[4 * n] = x1;
      boxes[4 * n + 1] = y1;
      boxes[4 * n + 2] = x2;
      boxes[4 * n + 3] = y2;
      labels[n] = label;
      difficult[n] = isDifficult;
      crowd[n] = isCrowd;
      areas[n] = area >= 0 ? area : (x2 - x1) * (y2 - y1);
      n++;
      return this;
    }

    /**
     * Builds the ground truth.
     *
     * @return the ground truth
     */
    public GroundTruth build() {
      return new GroundTruth(
          Arrays.copyOf(boxes, 4 * n),
          Arrays.copyOf(labels, n),
          Arrays.copyOf(difficult, n),
          Arrays.copyOf(crowd, n),
          Arrays.copyOf(areas, n));
    }
  }
}
