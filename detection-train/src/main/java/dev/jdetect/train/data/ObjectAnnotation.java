package dev.jdetect.train.data;

/**
 * One annotated object of an image, as read from an annotation file (no pixels loaded).
 *
 * <p>The box is {@code (x1, y1, x2, y2)} in continuous pixel coordinates of the image: the top-left
 * pixel covers {@code [0, 1) x [0, 1)}, so a box around exactly that pixel is {@code (0, 0, 1, 1)}.
 * Readers convert their format to this convention (see {@link VocReader} for VOC's 1-based
 * inclusive coordinates and {@link CocoReader} for COCO's {@code xywh}).
 */
public final class ObjectAnnotation {

  private final int label;
  // Kept in double precision as read from the file; the evaluators use these exact values.
  private final double x1;
  private final double y1;
  private final double x2;
  private final double y2;
  private final boolean difficult;
  private final boolean crowd;
  private final double area;

  /**
   * Creates an object annotation whose area is its box area.
   *
   * @param label the class label, 1..C (0 is background and not allowed here)
   * @param x1 left edge in pixels
   * @param y1 top edge in pixels
   * @param x2 right edge in pixels
   * @param y2 bottom edge in pixels
   * @param difficult VOC's {@code difficult} flag
   * @param crowd COCO's {@code iscrowd} flag
   */
  public ObjectAnnotation(
      int label, double x1, double y1, double x2, double y2, boolean difficult, boolean crowd) {
    this(label, x1, y1, x2, y2, difficult, crowd, (x2 - x1) * (y2 - y1));
  }

  /**
   * Creates an object annotation with an explicit area (COCO's {@code area} field, which is the
   * segmentation area and is what the COCO size ranges use).
   *
   * @param label the class label, 1..C
   * @param x1 left edge in pixels
   * @param y1 top edge in pixels
   * @param x2 right edge in pixels
   * @param y2 bottom edge in pixels
   * @param difficult VOC's {@code difficult} flag
   * @param crowd COCO's {@code iscrowd} flag
   * @param area the object area in square pixels
   */
  public ObjectAnnotation(
      int label,
      double x1,
      double y1,
      double x2,
      double y2,
      boolean difficult,
      boolean crowd,
      double area) {
    if (label < 1) {
      throw new IllegalArgumentException("label must be >= 1 (0 is background), got " + label);
    }
    this.label = label;
    this.x1 = x1;
    this.y1 = y1;
    this.x2 = x2;
    this.y2 = y2;
    this.difficult = difficult;
    this.crowd = crowd;
    this.area = area;
  }

  /**
   * Returns the class label (1..C).
   *
   * @return the label
   */
  public int getLabel() {
    return label;
  }

  /**
   * Returns the left edge.
   *
   * @return x1 in pixels
   */
  public float getX1() {
    return (float) x1;
  }

  /**
   * Returns the top edge.
   *
   * @return y1 in pixels
   */
  public float getY1() {
    return (float) y1;
  }

  /**
   * Returns the right edge.
   *
   * @return x2 in pixels
   */
  public float getX2() {
    return (float) x2;
  }

  /**
   * Returns the bottom edge.
   *
   * @return y2 in pixels
   */
  public float getY2() {
    return (float) y2;
  }

  /**
   * Returns the box as a new array.
   *
   * @return {@code {x1, y1, x2, y2}}
   */
  public float[] getBox() {
    return new float[] {(float) x1, (float) y1, (float) x2, (float) y2};
  }

  /**
   * Returns the box in double precision, exactly as read from the annotation file (the evaluators
   * use these values, as pycocotools and the VOC devkit compute in double precision).
   *
   * @return {@code {x1, y1, x2, y2}}
   */
  public double[] getBoxAsDouble() {
    return new double[] {x1, y1, x2, y2};
  }

  /**
   * Returns whether the object is marked difficult (VOC).
   *
   * @return the difficult flag
   */
  public boolean isDifficult() {
    return difficult;
  }

  /**
   * Returns whether the annotation is a crowd region (COCO {@code iscrowd}).
   *
   * @return the crowd flag
   */
  public boolean isCrowd() {
    return crowd;
  }

  /**
   * Returns the object area used for COCO size ranges, in double precision as given in the file.
   *
   * @return the area in square pixels
   */
  public double getArea() {
    return area;
  }

  @Override
  public String toString() {
    return "ObjectAnnotation{label="
        + label
        + ", box=["
        + x1
        + ", "
        + y1
        + ", "
        + x2
        + ", "
        + y2
        + "]"
        + (difficult ? ", difficult" : "")
        + (crowd ? ", crowd" : "")
        + "}";
  }
}
