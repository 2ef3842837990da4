package dev.jdetect.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The detections of one image: boxes {@code (K, 4)} as {@code (x1, y1, x2, y2)} in the pixels of
 * the image as it was given to the model, their scores {@code (K)} and class ids {@code (K)}
 * (int64, {@code 1..C}), sorted by descending score. {@code K} may be 0.
 */
public final class Detections {

  private final NDArray boxes;
  private final NDArray scores;
  private final NDArray labels;

  /**
   * Creates the detections of one image.
   *
   * @param boxes {@code (K, 4)} float32 boxes
   * @param scores {@code (K)} float32 scores
   * @param labels {@code (K)} int64 class ids
   * @throws IllegalArgumentException if the shapes do not agree
   */
  public Detections(NDArray boxes, NDArray scores, NDArray labels) {
    long k = scores.getShape().dimension() == 1 ? scores.getShape().get(0) : -1;
    if (k < 0
        || boxes.getShape().dimension() != 2
        || boxes.getShape().get(0) != k
        || boxes.getShape().get(1) != 4
        || labels.getShape().dimension() != 1
        || labels.getShape().get(0) != k) {
      throw new IllegalArgumentException(
          "detections need boxes (K,4), scores (K), labels (K); got boxes "
              + boxes.getShape()
              + ", scores "
              + scores.getShape()
              + ", labels "
              + labels.getShape());
    }
    this.boxes = boxes;
    this.scores = scores;
    this.labels =
        labels.getDataType() == DataType.INT64 ? labels : labels.toType(DataType.INT64, false);
  }

  /**
   * Returns the boxes.
   *
   * @return {@code (K, 4)} float32 {@code (x1, y1, x2, y2)}
   */
  public NDArray boxes() {
    return boxes;
  }

  /**
   * Returns the scores.
   *
   * @return {@code (K)} float32
   */
  public NDArray scores() {
    return scores;
  }

  /**
   * Returns the class ids.
   *
   * @return {@code (K)} int64, {@code 1..C}
   */
  public NDArray labels() {
    return labels;
  }

  /**
   * Returns the number of detections.
   *
   * @return {@code K}
   */
  public int size() {
    return (int) scores.getShape().get(0);
  }

  /**
   * Packs the detections of a batch as a flat list: boxes, scores, labels of image 0, then of image
   * 1, and so on. This is the form a model's inference forward pass returns.
   *
   * @param batch the detections per image
   * @return a list of {@code 3 * batch.size()} arrays
   */
  public static NDList toNDList(List<Detections> batch) {
    NDList list = new NDList(batch.size() * 3);
    for (Detections d : batch) {
      list.add(d.boxes);
      list.add(d.scores);
      list.add(d.labels);
    }
    return list;
  }

  /**
   * Returns the shapes of the {@link #toNDList} form for a batch: {@code (-1, 4)}, {@code (-1)},
   * {@code (-1)} per image, the image count read from the input shapes (one {@code (N, 3, H, W)}
   * shape or one {@code (3, H, W)} shape per image). This is a detector's {@code getOutputShapes}.
   *
   * @param inputShapes the images' shapes
   * @return three shapes per image
   */
  public static Shape[] outputShapes(Shape[] inputShapes) {
    int n =
        inputShapes.length == 1 && inputShapes[0].dimension() == 4
            ? (int) inputShapes[0].get(0)
            : inputShapes.length;
    Shape[] out = new Shape[3 * n];
    for (int i = 0; i < n; i++) {
      out[3 * i] = new Shape(-1, 4);
      out[3 * i + 1] = new Shape(-1);
      out[3 * i + 2] = new Shape(-1);
    }
    return out;
  }

  /**
   * Unpacks the form {@link #toNDList} makes.
   *
   * @param list boxes, scores, labels per image
   * @return the detections per image
   * @throws IllegalArgumentException if the list size is not a multiple of 3
   */
  public static List<Detections> fromNDList(NDList list) {
    if (list.size() % 3 != 0) {
      throw new IllegalArgumentException(
          "detections list must hold 3 arrays per image, got " + list.size());
    }
    List<Detections> batch = new ArrayList<>(list.size() / 3);
    for (int i = 0; i < list.size(); i += 3) {
      batch.add(new Detections(list.get(i), list.get(i + 1), list.get(i + 2)));
    }
    return batch;
  }
}
