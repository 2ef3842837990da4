package dev.jdetect.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The training targets of a batch, in the padded form every jdetect model takes as the {@code
 * labels} argument of {@code Block.forward(parameterStore, data, labels, params)}:
 *
 * <ul>
 *   <li>{@code boxes} {@code (B, Nmax, 4)} float32 {@code (x1, y1, x2, y2)} in input-image pixels;
 *   <li>{@code classes} {@code (B, Nmax)} int64, object classes {@code 1..C}; rows whose class is
 *       {@link #PADDING} ({@code -1}) are padding and carry no object.
 * </ul>
 *
 * <p>An image may have no objects (all its rows are padding), and {@code Nmax} may be 0.
 */
public final class Targets {

  /** The class id that marks a padding row. */
  public static final long PADDING = -1;

  private Targets() {}

  /**
   * Pads per-image targets into the batch form.
   *
   * @param manager the manager of the result
   * @param boxesPerImage one {@code (N_i, 4)} float array per image
   * @param labelsPerImage one {@code (N_i)} integer array per image
   * @return {@code {boxes (B, Nmax, 4), classes (B, Nmax)}}
   * @throws IllegalArgumentException if the lists or shapes do not agree
   */
  public static NDList pad(
      NDManager manager, List<NDArray> boxesPerImage, List<NDArray> labelsPerImage) {
    if (boxesPerImage.size() != labelsPerImage.size()) {
      throw new IllegalArgumentException(
          "boxesPerImage has "
              + boxesPerImage.size()
              + " images but labelsPerImage has "
              + labelsPerImage.size());
    }
    int batch = boxesPerImage.size();
    long nMax = 0;
    for (int i = 0; i < batch; i++) {
      Shape b = boxesPerImage.get(i).getShape();
      Shape l = labelsPerImage.get(i).getShape();
      if (b.dimension() != 2 || b.get(1) != 4 || l.dimension() != 1 || l.get(0) != b.get(0)) {
        throw new IllegalArgumentException(
            "image "
                + i
                + ": boxes must be (N,4) and labels (N), got boxes "
                + b
                + ", labels "
                + l);
      }
      nMax = Math.max(nMax, b.get(0));
    }
    NDArray boxes;
    NDArray classes;
    try (NDManager scope = manager.newSubManager()) {
      List<NDArray> paddedBoxes = new ArrayList<>(batch);
      List<NDArray> paddedClasses = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        NDArray b = boxesPerImage.get(i).toType(DataType.FLOAT32, false);
        NDArray l = labelsPerImage.get(i).toType(DataType.INT64, false);
        long missing = nMax - b.getShape().get(0);
        if (missing > 0) {
          b = b.concat(scope.zeros(new Shape(missing, 4), DataType.FLOAT32, b.getDevice()), 0);
          l = l.concat(scope.full(new Shape(missing), PADDING, DataType.INT64, l.getDevice()), 0);
        }
        paddedBoxes.add(b.expandDims(0));
        paddedClasses.add(l.expandDims(0));
      }
      if (batch == 0) {
        boxes = manager.zeros(new Shape(0, 0, 4), DataType.FLOAT32);
        classes = manager.zeros(new Shape(0, 0), DataType.INT64);
      } else {
        boxes = NDArrays.concat(new NDList(paddedBoxes), 0);
        classes = NDArrays.concat(new NDList(paddedClasses), 0);
        boxes.attach(manager);
        classes.attach(manager);
      }
    }
    boxes.setName("boxes");
    classes.setName("classes");
    return new NDList(boxes, classes);
  }

  /**
   * Splits the batch form into per-image targets, dropping padding rows.
   *
   * @param targets {@code {boxes (B, Nmax, 4), classes (B, Nmax)}}
   * @return per image {@code {boxes (N_i, 4), labels (N_i)}}, on the targets' manager
   * @throws IllegalArgumentException if the targets are not in the batch form
   */
  public static List<NDArray[]> unpad(NDList targets) {
    List<NDArray[]> out = new ArrayList<>();
    for (ImageTargets t : perImage(targets)) {
      out.add(new NDArray[] {t.boxes(), t.labels()});
    }
    return out;
  }

  /**
   * Splits the batch form into per-image targets, dropping padding rows.
   *
   * @param targets {@code {boxes (B, Nmax, 4), classes (B, Nmax)}}
   * @return one {@link ImageTargets} per image (labels int64), on the targets' manager
   * @throws IllegalArgumentException if the targets are not in the batch form
   */
  public static List<ImageTargets> perImage(NDList targets) {
    checkForm(targets);
    NDArray boxes = targets.get(0);
    NDArray classes = targets.get(1);
    int batch = (int) classes.getShape().get(0);
    long[] flat = classes.toType(DataType.INT64, false).toLongArray();
    int nMax = (int) classes.getShape().get(1);
    List<ImageTargets> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      int count = 0;
      boolean contiguous = true;
      for (int j = 0; j < nMax; j++) {
        if (flat[b * nMax + j] != PADDING) {
          contiguous &= count == j;
          count++;
        }
      }
      NDArray imageBoxes = boxes.get(b);
      NDArray imageLabels = classes.get(b);
      if (contiguous) {
        imageBoxes = imageBoxes.get(":" + count);
        imageLabels = imageLabels.get(":" + count);
      } else {
        long[] keep = new long[count];
        int k = 0;
        for (int j = 0; j < nMax; j++) {
          if (flat[b * nMax + j] != PADDING) {
            keep[k++] = j;
          }
        }
        NDArray index = boxes.getManager().create(keep).toDevice(boxes.getDevice(), false);
        imageBoxes = imageBoxes.get(index);
        imageLabels = imageLabels.get(index);
      }
      out.add(new ImageTargets(imageBoxes, imageLabels.toType(DataType.INT64, false)));
    }
    return out;
  }

  /**
   * Checks targets for what would otherwise train silently into NaN or crash a kernel: boxes must
   * be finite, non-negative and non-degenerate ({@code x2 > x1}, {@code y2 > y1}); classes must lie
   * in {@code 1..numClasses} (or be padding).
   *
   * @param targets the batch form
   * @param numClasses the number of object classes, background excluded
   * @throws IllegalArgumentException naming the image index, the row and the field at fault
   */
  public static void validate(NDList targets, int numClasses) {
    checkForm(targets);
    NDArray classes = targets.get(1);
    int batch = (int) classes.getShape().get(0);
    int nMax = (int) classes.getShape().get(1);
    long[] labels = classes.toType(DataType.INT64, false).toLongArray();
    float[] boxes = targets.get(0).toType(DataType.FLOAT32, false).toFloatArray();
    for (int b = 0; b < batch; b++) {
      for (int j = 0; j < nMax; j++) {
        long label = labels[b * nMax + j];
        if (label == PADDING) {
          continue;
        }
        String where = "image " + b + ", object " + j + ": ";
        if (label < 1 || label > numClasses) {
          throw new IllegalArgumentException(
              where + "label " + label + " is outside 1.." + numClasses + " (0 is background)");
        }
        int o = (b * nMax + j) * 4;
        float x1 = boxes[o];
        float y1 = boxes[o + 1];
        float x2 = boxes[o + 2];
        float y2 = boxes[o + 3];
        String box = "[" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + "]";
        for (int c = 0; c < 4; c++) {
          if (!Float.isFinite(boxes[o + c])) {
            throw new IllegalArgumentException(where + "box " + box + " is not finite");
          }
        }
        if (x1 < 0 || y1 < 0) {
          throw new IllegalArgumentException(where + "box " + box + " has negative coordinates");
        }
        if (!(x2 > x1) || !(y2 > y1)) {
          throw new IllegalArgumentException(
              where + "box " + box + " is degenerate (needs x2 > x1 and y2 > y1)");
        }
      }
    }
  }

  private static void checkForm(NDList targets) {
    if (targets == null || targets.size() < 2) {
      throw new IllegalArgumentException(
          "targets must be {boxes (B,Nmax,4), classes (B,Nmax)}, got "
              + (targets == null ? "null" : targets.size() + " arrays"));
    }
    Shape b = targets.get(0).getShape();
    Shape c = targets.get(1).getShape();
    if (b.dimension() != 3
        || b.get(2) != 4
        || c.dimension() != 2
        || b.get(0) != c.get(0)
        || b.get(1) != c.get(1)) {
      throw new IllegalArgumentException(
          "targets must be boxes (B,Nmax,4) and classes (B,Nmax), got boxes "
              + b
              + ", classes "
              + c);
    }
  }
}
