package dev.jdetect.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.Function;

/**
 * Reads evaluation inputs from NDArrays into Java arrays, and checks the objects added to the
 * {@link GroundTruth} and {@link Predictions} builders. Package-private.
 */
final class EvalArrays {

  private EvalArrays() {}

  /** Reads a {@code (N, 4)} box array as float64. */
  static double[] boxes(NDArray boxes, String name) {
    Shape s = boxes.getShape();
    if (s.dimension() != 2 || s.get(1) != 4) {
      throw new IllegalArgumentException(name + " must have shape (N, 4), got " + s);
    }
    return doubles(boxes);
  }

  /** Checks that {@code a} has shape {@code (n)}. */
  static void checkLength(NDArray a, String name, int n) {
    if (a.getShape().dimension() != 1 || a.getShape().get(0) != n) {
      throw new IllegalArgumentException(
          name + " must have shape (" + n + "), got " + a.getShape());
    }
  }

  /** Reads an array as float64 without leaving a converted copy in the caller's manager. */
  static double[] doubles(NDArray a) {
    return read(a, DataType.FLOAT64, NDArray::toDoubleArray);
  }

  /** Reads an array as int64 without leaving a converted copy in the caller's manager. */
  static long[] longs(NDArray a) {
    return read(a, DataType.INT64, NDArray::toLongArray);
  }

  /** Reads an array as boolean without leaving a converted copy in the caller's manager. */
  static boolean[] booleans(NDArray a) {
    return read(a, DataType.BOOLEAN, NDArray::toBooleanArray);
  }

  private static <T> T read(NDArray a, DataType type, Function<NDArray, T> reader) {
    if (a.getDataType() == type) {
      return reader.apply(a);
    }
    try (NDManager sub = a.getManager().newSubManager()) {
      a.tempAttach(sub);
      return reader.apply(a.toType(type, true));
    }
  }

  /**
   * Comparator for a stable sort by descending score, like numpy's {@code argsort(-score,
   * kind='mergesort')} (so {@code 0.0} and {@code -0.0} tie).
   */
  static int descending(double a, double b) {
    return a > b ? -1 : a < b ? 1 : 0;
  }

  /** Checks an object's label: {@code >= 1}. */
  static void checkLabel(int label) {
    if (label < 1) {
      throw new IllegalArgumentException("label must be >= 1, got " + label);
    }
  }

  /** Checks an object's box: finite, {@code x2 >= x1} and {@code y2 >= y1}. */
  static void checkBox(double x1, double y1, double x2, double y2) {
    String box = "[" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + "]";
    if (!Double.isFinite(x1)
        || !Double.isFinite(y1)
        || !Double.isFinite(x2)
        || !Double.isFinite(y2)) {
      throw new IllegalArgumentException("box coordinates must be finite, got " + box);
    }
    if (!(x2 >= x1) || !(y2 >= y1)) {
      throw new IllegalArgumentException("box must have x2 >= x1 and y2 >= y1, got " + box);
    }
  }
}
