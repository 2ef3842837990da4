package dev.jdetect.core.nms;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Greedy non-maximum suppression with torchvision's exact semantics.
 *
 * <p>Boxes are visited in descending score order; ties keep their index order (a stable sort). A
 * box is kept unless an already kept box overlaps it with IoU strictly greater than the threshold.
 * IoU is computed in the boxes' precision exactly like torchvision's CPU kernel: areas {@code (x2 -
 * x1) * (y2 - y1)}, intersection {@code max(0, min(x2) - max(x1)) * max(0, min(y2) - max(y1))} and
 * {@code inter / (area1 + area2 - inter)}. The result holds the kept indices as int64, in
 * descending score order, on the device of {@code boxes}.
 *
 * <p>Two implementations return identical indices:
 *
 * <ul>
 *   <li>{@link Backend#JAVA}: pulls the boxes and scores into Java arrays once, sorts them and runs
 *       greedy NMS against a uniform grid of the kept boxes, so a candidate is compared only with
 *       kept boxes that share a grid cell with it (a candidate is kept iff no kept box overlaps it
 *       by more than the threshold, which is exactly greedy NMS). {@link #batchedNms} runs the
 *       groups in parallel. This is the fast choice on CPU.
 *   <li>{@link Backend#DEVICE}: pure NDArray ops on the arrays' device (IoU blocks between the
 *       sorted boxes, resolved block by block with a fixed-point iteration that equals greedy NMS),
 *       for GPU arrays.
 * </ul>
 *
 * <p>{@link Backend#AUTO} (used by the short overloads) picks {@code JAVA} for CPU arrays and
 * {@code DEVICE} otherwise.
 *
 * <p>Bad input (wrong shapes, NaN or infinite coordinates, {@code x2 < x1} or {@code y2 < y1}, NaN
 * scores, a NaN threshold, a negative {@code topK}) throws {@link IllegalArgumentException} naming
 * the argument. Empty inputs return an empty int64 array.
 *
 * <p>The threshold is a {@code double} and the IoU is compared with it exactly as torchvision does
 * ({@code ovr > iou_threshold} with a double threshold); pass {@code 0.7}, not {@code 0.7f}, to
 * reproduce torchvision bit for bit.
 *
 * <p><b>Precision.</b> As torchvision, NMS computes in the input's precision: float64 boxes give
 * float64 IoUs and float64 scores are ranked in float64; other floating types (float16, bfloat16,
 * float32) are computed in float32.
 */
public final class Nms {

  /** Which implementation runs the suppression. */
  public enum Backend {
    /** {@link #JAVA} for CPU arrays, {@link #DEVICE} for any other device. */
    AUTO,
    /** Java arrays with a spatial grid (and parallel groups); results go back to the device. */
    JAVA,
    /** Pure NDArray ops on the arrays' own device. */
    DEVICE
  }

  private Nms() {}

  /**
   * Greedy NMS over all boxes.
   *
   * @param boxes (N, 4) boxes as (x1, y1, x2, y2)
   * @param scores (N) scores
   * @param iouThreshold boxes overlapping a kept box with IoU greater than this are removed
   * @return int64 (K) indices of the kept boxes in descending score order
   */
  public static NDArray nms(NDArray boxes, NDArray scores, double iouThreshold) {
    return nms(boxes, scores, iouThreshold, Integer.MAX_VALUE, Backend.AUTO);
  }

  /**
   * Greedy NMS keeping at most {@code topK} boxes (the first {@code topK} of the full result).
   *
   * @param boxes (N, 4) boxes as (x1, y1, x2, y2)
   * @param scores (N) scores
   * @param iouThreshold boxes overlapping a kept box with IoU greater than this are removed
   * @param topK maximum number of indices returned, {@code >= 0}
   * @return int64 (K) indices, {@code K <= topK}, in descending score order
   */
  public static NDArray nms(NDArray boxes, NDArray scores, double iouThreshold, int topK) {
    return nms(boxes, scores, iouThreshold, topK, Backend.AUTO);
  }

  /**
   * Greedy NMS with an explicit implementation choice.
   *
   * @param boxes (N, 4) boxes as (x1, y1, x2, y2); converted to float32 if needed
   * @param scores (N) scores
   * @param iouThreshold boxes overlapping a kept box with IoU greater than this are removed
   * @param topK maximum number of indices returned, {@code >= 0}
   * @param backend which implementation to run
   * @return int64 (K) indices in descending score order, on the device of {@code boxes}
   */
  public static NDArray nms(
      NDArray boxes, NDArray scores, double iouThreshold, int topK, Backend backend) {
    validate(boxes, scores, null, iouThreshold, topK);
    return run(boxes, scores, null, iouThreshold, topK, backend);
  }

  /**
   * NMS applied independently per group (class, FPN level, image...): boxes of different groups
   * never suppress each other. Equals torchvision's {@code batched_nms} (per-group {@code nms},
   * merged and sorted by descending score; ties in index order).
   *
   * @param boxes (N, 4) boxes as (x1, y1, x2, y2)
   * @param scores (N) scores
   * @param groupIds (N) integer group of each box
   * @param iouThreshold boxes overlapping a kept box of their group with IoU greater than this are
   *     removed
   * @return int64 (K) kept indices in descending score order
   */
  public static NDArray batchedNms(
      NDArray boxes, NDArray scores, NDArray groupIds, double iouThreshold) {
    return batchedNms(boxes, scores, groupIds, iouThreshold, Integer.MAX_VALUE, Backend.AUTO);
  }

  /**
   * Batched NMS keeping at most {@code topK} indices overall, with an explicit implementation.
   *
   * @param boxes (N, 4) boxes as (x1, y1, x2, y2)
   * @param scores (N) scores
   * @param groupIds (N) integer group of each box (int32 or int64)
   * @param iouThreshold IoU threshold within a group
   * @param topK maximum number of indices returned, {@code >= 0}
   * @param backend which implementation to run
   * @return int64 (K) kept indices in descending score order, on the device of {@code boxes}
   */
  public static NDArray batchedNms(
      NDArray boxes,
      NDArray scores,
      NDArray groupIds,
      double iouThreshold,
      int topK,
      Backend backend) {
    validate(boxes, scores, groupIds, iouThreshold, topK);
    return run(boxes, scores, groupIds, iouThreshold, topK, backend);
  }

  private static NDArray run(
      NDArray boxes,
      NDArray scores,
      NDArray groupIds,
      double iouThreshold,
      int topK,
      Backend backend) {
    NDManager manager = boxes.getManager();
    long n = boxes.getShape().get(0);
    if (n == 0 || topK == 0) {
      return manager.create(new long[0]);
    }
    Backend chosen = backend;
    if (chosen == null || chosen == Backend.AUTO) {
      chosen = boxes.getDevice().equals(Device.cpu()) ? Backend.JAVA : Backend.DEVICE;
    }
    // torchvision computes in the boxes' own precision: float64 stays float64, the rest float32.
    boolean single = boxes.getDataType() != DataType.FLOAT64;
    if (chosen == Backend.JAVA) {
      double[] b;
      double[] s;
      long[] g = null;
      try (NDManager sub = manager.newSubManager()) {
        boxes.tempAttach(sub);
        scores.tempAttach(sub);
        b = toDoubles(boxes, single);
        s = toDoubles(scores, scores.getDataType() != DataType.FLOAT64);
        if (groupIds != null) {
          groupIds.tempAttach(sub);
          g = groupIds.toType(DataType.INT64, false).toLongArray();
        }
      }
      checkValues(b, s);
      long[] kept = GridNms.run(b, s, g, iouThreshold, topK, single);
      return manager.create(kept);
    }
    return DeviceNms.run(boxes, scores, groupIds, iouThreshold, topK);
  }

  /** Reads an array in float32 (widened exactly to double) or in float64. */
  private static double[] toDoubles(NDArray a, boolean single) {
    if (!single) {
      return a.toDoubleArray();
    }
    float[] f = a.toType(DataType.FLOAT32, false).toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /**
   * The largest float {@code tf <= t}: for every float {@code x}, {@code x > t} (compared in
   * double) holds iff {@code x > tf} (compared in float).
   */
  static float floatThreshold(double t) {
    float f = (float) t;
    if ((double) f > t) {
      f = Math.nextDown(f);
    }
    return f;
  }

  private static void validate(
      NDArray boxes, NDArray scores, NDArray groupIds, double iouThreshold, int topK) {
    if (boxes == null || scores == null) {
      throw new IllegalArgumentException("boxes and scores must not be null");
    }
    Shape bs = boxes.getShape();
    if (bs.dimension() != 2 || bs.get(1) != 4) {
      throw new IllegalArgumentException("boxes must have shape (N, 4), got " + bs);
    }
    Shape ss = scores.getShape();
    if (ss.dimension() != 1 || ss.get(0) != bs.get(0)) {
      throw new IllegalArgumentException(
          "scores must have shape (" + bs.get(0) + ") to match boxes " + bs + ", got " + ss);
    }
    if (!boxes.getDataType().isFloating() || !scores.getDataType().isFloating()) {
      throw new IllegalArgumentException(
          "boxes and scores must be floating point, got boxes "
              + boxes.getDataType()
              + " and scores "
              + scores.getDataType());
    }
    if (groupIds != null) {
      Shape gs = groupIds.getShape();
      if (gs.dimension() != 1 || gs.get(0) != bs.get(0)) {
        throw new IllegalArgumentException(
            "groupIds must have shape (" + bs.get(0) + ") to match boxes " + bs + ", got " + gs);
      }
      DataType gt = groupIds.getDataType();
      if (gt != DataType.INT64 && gt != DataType.INT32) {
        throw new IllegalArgumentException("groupIds must be int32 or int64, got " + gt);
      }
    }
    if (Double.isNaN(iouThreshold)) {
      throw new IllegalArgumentException("iouThreshold must not be NaN");
    }
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0, got " + topK);
    }
  }

  /** Value checks on the Java copies (the JAVA backend). */
  static void checkValues(double[] b, double[] s) {
    int n = s.length;
    for (int i = 0; i < n; i++) {
      double x1 = b[4 * i];
      double y1 = b[4 * i + 1];
      double x2 = b[4 * i + 2];
      double y2 = b[4 * i + 3];
      if (!(Double.isFinite(x1)
          && Double.isFinite(y1)
          && Double.isFinite(x2)
          && Double.isFinite(y2))) {
        throw new IllegalArgumentException(
            "boxes must be finite, got row " + i + " = " + rowString(x1, y1, x2, y2));
      }
      if (x2 < x1 || y2 < y1) {
        throw new IllegalArgumentException(
            "boxes must satisfy x2 >= x1 and y2 >= y1, got row "
                + i
                + " = "
                + rowString(x1, y1, x2, y2));
      }
      if (Double.isNaN(s[i])) {
        throw new IllegalArgumentException("scores must not be NaN, got NaN at index " + i);
      }
    }
  }

  static String rowString(double x1, double y1, double x2, double y2) {
    return "[" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + "]";
  }
}
