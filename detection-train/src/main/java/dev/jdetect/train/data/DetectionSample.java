package dev.jdetect.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.inference.ImageTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One image with its targets, as fed to a detector or an augmentation.
 *
 * <ul>
 *   <li>{@code image}: float32 RGB {@code (3, H, W)} in {@code [0, 1]};
 *   <li>{@code boxes}: float32 {@code (N, 4)} {@code (x1, y1, x2, y2)} in pixels of {@code image};
 *   <li>{@code labels}: int64 {@code (N)}, object classes 1..C (0 is background);
 *   <li>{@code difficult}: boolean {@code (N)} (VOC; all false elsewhere);
 *   <li>{@code crowd}: boolean {@code (N)} (COCO {@code iscrowd}; all false elsewhere).
 * </ul>
 *
 * <p>{@code N} may be 0. The sample also remembers the image id and the size of the original image
 * before any transform. Instances are immutable; transforms return new samples. All arrays of a
 * sample normally share one manager, see {@link #getManager()}.
 */
public final class DetectionSample {

  private final String imageId;
  private final NDArray image;
  private final NDArray boxes;
  private final NDArray labels;
  private final NDArray difficult;
  private final NDArray crowd;
  private final int originalWidth;
  private final int originalHeight;

  /**
   * Creates a sample.
   *
   * @param imageId the image id
   * @param image float32 {@code (3, H, W)}
   * @param boxes float32 {@code (N, 4)}
   * @param labels int64 {@code (N)}
   * @param difficult boolean {@code (N)}
   * @param crowd boolean {@code (N)}
   * @param originalWidth width of the image as stored on disk
   * @param originalHeight height of the image as stored on disk
   * @throws IllegalArgumentException if a shape or type does not match
   */
  public DetectionSample(
      String imageId,
      NDArray image,
      NDArray boxes,
      NDArray labels,
      NDArray difficult,
      NDArray crowd,
      int originalWidth,
      int originalHeight) {
    this.imageId = Objects.requireNonNull(imageId, "imageId");
    Shape is = image.getShape();
    if (is.dimension() != 3 || image.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "image must be float32 (C, H, W), got " + image.getDataType() + " " + is);
    }
    Shape bs = boxes.getShape();
    if (bs.dimension() != 2 || bs.get(1) != 4 || boxes.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "boxes must be float32 (N, 4), got " + boxes.getDataType() + " " + bs);
    }
    long n = bs.get(0);
    checkVector(labels, "labels", n, DataType.INT64);
    checkVector(difficult, "difficult", n, DataType.BOOLEAN);
    checkVector(crowd, "crowd", n, DataType.BOOLEAN);
    this.image = image;
    this.boxes = boxes;
    this.labels = labels;
    this.difficult = difficult;
    this.crowd = crowd;
    this.originalWidth = originalWidth;
    this.originalHeight = originalHeight;
  }

  private static void checkVector(NDArray a, String name, long n, DataType type) {
    if (a.getShape().dimension() != 1 || a.getShape().get(0) != n || a.getDataType() != type) {
      throw new IllegalArgumentException(
          name + " must be " + type + " (" + n + "), got " + a.getDataType() + " " + a.getShape());
    }
  }

  /**
   * Creates a sample from Java arrays (difficult and crowd all false).
   *
   * @param manager the manager of the new arrays
   * @param imageId the image id
   * @param image float32 {@code (3, H, W)}
   * @param boxes {@code N} boxes {@code {x1, y1, x2, y2}}
   * @param labels {@code N} labels in 1..C
   * @return the sample
   */
  public static DetectionSample of(
      NDManager manager, String imageId, NDArray image, float[][] boxes, long[] labels) {
    return of(manager, imageId, image, boxes, labels, new boolean[labels.length]);
  }

  /**
   * Creates a sample from Java arrays (crowd all false).
   *
   * @param manager the manager of the new arrays
   * @param imageId the image id
   * @param image float32 {@code (3, H, W)}
   * @param boxes {@code N} boxes {@code {x1, y1, x2, y2}}
   * @param labels {@code N} labels in 1..C
   * @param difficult {@code N} difficult flags
   * @return the sample
   */
  public static DetectionSample of(
      NDManager manager,
      String imageId,
      NDArray image,
      float[][] boxes,
      long[] labels,
      boolean[] difficult) {
    if (boxes.length != labels.length || difficult.length != labels.length) {
      throw new IllegalArgumentException(
          "boxes, labels and difficult must have the same length, got "
              + boxes.length
              + ", "
              + labels.length
              + ", "
              + difficult.length);
    }
    float[] flat = new float[boxes.length * 4];
    for (int i = 0; i < boxes.length; i++) {
      if (boxes[i].length != 4) {
        throw new IllegalArgumentException("boxes[" + i + "] must have 4 values");
      }
      System.arraycopy(boxes[i], 0, flat, 4 * i, 4);
    }
    Shape is = image.getShape();
    return new DetectionSample(
        imageId,
        image,
        manager.create(flat, new Shape(boxes.length, 4)),
        manager.create(labels),
        manager.create(difficult),
        manager.create(new boolean[labels.length]),
        (int) is.get(is.dimension() - 1),
        (int) is.get(is.dimension() - 2));
  }

  /**
   * Loads an annotated image from disk.
   *
   * @param manager the manager of the new arrays
   * @param annotation the image annotation
   * @param includeDifficult whether difficult objects become targets
   * @param includeCrowd whether crowd regions become targets
   * @return the sample
   * @throws DatasetFormatException if the image is missing or corrupt, or its size differs from the
   *     annotated size
   */
  public static DetectionSample load(
      NDManager manager,
      ImageAnnotation annotation,
      boolean includeDifficult,
      boolean includeCrowd) {
    java.awt.image.BufferedImage img = ImageFiles.read(annotation.getFile());
    if (img.getWidth() != annotation.getWidth() || img.getHeight() != annotation.getHeight()) {
      throw new DatasetFormatException(
          annotation.getFile(),
          -1,
          null,
          "image is "
              + img.getWidth()
              + "x"
              + img.getHeight()
              + " but its annotation says "
              + annotation.getWidth()
              + "x"
              + annotation.getHeight());
    }
    List<ObjectAnnotation> kept = new ArrayList<>();
    for (ObjectAnnotation o : annotation.getObjects()) {
      if ((o.isDifficult() && !includeDifficult) || (o.isCrowd() && !includeCrowd)) {
        continue;
      }
      kept.add(o);
    }
    int n = kept.size();
    float[] flat = new float[4 * n];
    long[] labels = new long[n];
    boolean[] diff = new boolean[n];
    boolean[] crowd = new boolean[n];
    for (int i = 0; i < n; i++) {
      ObjectAnnotation o = kept.get(i);
      flat[4 * i] = o.getX1();
      flat[4 * i + 1] = o.getY1();
      flat[4 * i + 2] = o.getX2();
      flat[4 * i + 3] = o.getY2();
      labels[i] = o.getLabel();
      diff[i] = o.isDifficult();
      crowd[i] = o.isCrowd();
    }
    return new DetectionSample(
        annotation.getId(),
        ImageTensors.toChw(manager, img),
        manager.create(flat, new Shape(n, 4)),
        manager.create(labels),
        manager.create(diff),
        manager.create(crowd),
        annotation.getWidth(),
        annotation.getHeight());
  }

  /**
   * Returns a sample with a new image and boxes, keeping the labels and flags of the rows {@code
   * keep} (in that order). Used by transforms.
   *
   * @param newImage the new image
   * @param newBoxes the new boxes, one row per entry of {@code keep}
   * @param keep indices into this sample's rows, or {@code null} to keep all rows
   * @return the new sample
   */
  public DetectionSample with(NDArray newImage, NDArray newBoxes, int[] keep) {
    if (keep == null) {
      return new DetectionSample(
          imageId, newImage, newBoxes, labels, difficult, crowd, originalWidth, originalHeight);
    }
    long[] l = labels.toLongArray();
    boolean[] d = difficult.toBooleanArray();
    boolean[] c = crowd.toBooleanArray();
    long[] nl = new long[keep.length];
    boolean[] nd = new boolean[keep.length];
    boolean[] nc = new boolean[keep.length];
    for (int i = 0; i < keep.length; i++) {
      nl[i] = l[keep[i]];
      nd[i] = d[keep[i]];
      nc[i] = c[keep[i]];
    }
    NDManager m = newBoxes.getManager();
    return new DetectionSample(
        imageId,
        newImage,
        newBoxes,
        m.create(nl),
        m.create(nd),
        m.create(nc),
        originalWidth,
        originalHeight);
  }

  /**
   * Returns the image id.
   *
   * @return the id
   */
  public String getImageId() {
    return imageId;
  }

  /**
   * Returns the image.
   *
   * @return float32 {@code (3, H, W)} in {@code [0, 1]}
   */
  public NDArray getImage() {
    return image;
  }

  /**
   * Returns the boxes.
   *
   * @return float32 {@code (N, 4)} xyxy pixels
   */
  public NDArray getBoxes() {
    return boxes;
  }

  /**
   * Returns the labels.
   *
   * @return int64 {@code (N)}
   */
  public NDArray getLabels() {
    return labels;
  }

  /**
   * Returns the difficult flags.
   *
   * @return boolean {@code (N)}
   */
  public NDArray getDifficult() {
    return difficult;
  }

  /**
   * Returns the crowd flags.
   *
   * @return boolean {@code (N)}
   */
  public NDArray getCrowd() {
    return crowd;
  }

  /**
   * Returns the number of boxes N.
   *
   * @return N
   */
  public int size() {
    return (int) boxes.getShape().get(0);
  }

  /**
   * Returns the current image width.
   *
   * @return W
   */
  public int getWidth() {
    return (int) image.getShape().get(2);
  }

  /**
   * Returns the current image height.
   *
   * @return H
   */
  public int getHeight() {
    return (int) image.getShape().get(1);
  }

  /**
   * Returns the width of the image as stored on disk.
   *
   * @return the original width
   */
  public int getOriginalWidth() {
    return originalWidth;
  }

  /**
   * Returns the height of the image as stored on disk.
   *
   * @return the original height
   */
  public int getOriginalHeight() {
    return originalHeight;
  }

  /**
   * Returns the manager of the image array.
   *
   * @return the manager
   */
  public NDManager getManager() {
    return image.getManager();
  }

  /**
   * Attaches all arrays of this sample to a manager.
   *
   * @param manager the new manager
   * @return this sample
   */
  public DetectionSample attach(NDManager manager) {
    image.attach(manager);
    boxes.attach(manager);
    labels.attach(manager);
    difficult.attach(manager);
    crowd.attach(manager);
    return this;
  }
}
