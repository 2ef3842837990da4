package dev.jdetect.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * D2L's TinySSD training metrics (section 14.7): the <b>anchor class error</b> {@code 1 - correct /
 * anchors} and the <b>masked bounding-box MAE</b> {@code sum |(target - pred) * mask| /
 * numel(target)}, accumulated over batches like D2L's {@code Accumulator(4)}. The book reports
 * about {@code 3.3e-3} and {@code 3.1e-3} after 20 epochs on the banana set.
 *
 * <p>The static helpers are D2L's {@code cls_eval} and {@code bbox_eval}. Not thread-safe.
 */
public final class TinySsdMetrics {

  private double correct;
  private double anchors;
  private double absError;
  private double boxValues;

  /** Creates an empty accumulator. */
  public TinySsdMetrics() {}

  /**
   * Counts anchors whose arg-max class equals the label (D2L's {@code cls_eval}).
   *
   * @param classPreds class scores {@code (..., numClasses + 1)}
   * @param classLabels integer labels with the shape of {@code classPreds} without its last axis
   * @return the number of correct anchors
   */
  public static long correctClassCount(NDArray classPreds, NDArray classLabels) {
    Shape p = classPreds.getShape();
    Shape l = classLabels.getShape();
    if (p.dimension() < 1 || !p.slice(0, p.dimension() - 1).equals(l)) {
      throw new IllegalArgumentException(
          "classLabels shape "
              + l
              + " must equal classPreds shape "
              + p
              + " without its last axis");
    }
    try (NDManager sub = classPreds.getManager().newSubManager()) {
      classPreds.tempAttach(sub);
      classLabels.tempAttach(sub);
      NDArray arg = classPreds.argMax(-1).toType(DataType.INT64, false);
      NDArray eq = arg.eq(classLabels.toType(DataType.INT64, false));
      return eq.toType(DataType.INT64, false).sum().getLong();
    }
  }

  /**
   * Sums the masked absolute box-offset error (D2L's {@code bbox_eval}).
   *
   * @param boxPreds predicted offsets, any shape
   * @param boxLabels target offsets, same shape
   * @param boxMasks 1 for positive anchors' offsets and 0 elsewhere, same shape
   * @return {@code sum |(boxLabels - boxPreds) * boxMasks|}
   */
  public static double maskedAbsErrorSum(NDArray boxPreds, NDArray boxLabels, NDArray boxMasks) {
    if (!boxPreds.getShape().equals(boxLabels.getShape())
        || !boxPreds.getShape().equals(boxMasks.getShape())) {
      throw new IllegalArgumentException(
          "boxPreds "
              + boxPreds.getShape()
              + ", boxLabels "
              + boxLabels.getShape()
              + " and boxMasks "
              + boxMasks.getShape()
              + " must have the same shape");
    }
    float[] p;
    float[] l;
    float[] m;
    try (NDManager sub = boxPreds.getManager().newSubManager()) {
      boxPreds.tempAttach(sub);
      boxLabels.tempAttach(sub);
      boxMasks.tempAttach(sub);
      p = boxPreds.toType(DataType.FLOAT32, false).toFloatArray();
      l = boxLabels.toType(DataType.FLOAT32, false).toFloatArray();
      m = boxMasks.toType(DataType.FLOAT32, false).toFloatArray();
    }
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      sum += Math.abs((l[i] - p[i]) * m[i]);
    }
    return sum;
  }

  /**
   * Adds one batch.
   *
   * @param classPreds class scores {@code (B, A, numClasses + 1)}
   * @param classLabels labels {@code (B, A)}
   * @param boxPreds offsets {@code (B, 4A)}
   * @param boxLabels target offsets {@code (B, 4A)}
   * @param boxMasks masks {@code (B, 4A)}
   */
  public void update(
      NDArray classPreds,
      NDArray classLabels,
      NDArray boxPreds,
      NDArray boxLabels,
      NDArray boxMasks) {
    correct += correctClassCount(classPreds, classLabels);
    anchors += classLabels.size();
    absError += maskedAbsErrorSum(boxPreds, boxLabels, boxMasks);
    boxValues += boxLabels.size();
  }

  /**
   * Returns {@code 1 - correct / anchors} over all batches.
   *
   * @return the class error, or NaN before the first batch
   */
  public double getClassError() {
    return anchors == 0 ? Double.NaN : 1 - correct / anchors;
  }

  /**
   * Returns {@code sum |masked error| / number of offset values} over all batches.
   *
   * @return the bbox MAE, or NaN before the first batch
   */
  public double getBboxMae() {
    return boxValues == 0 ? Double.NaN : absError / boxValues;
  }

  /** Clears the accumulated values. */
  public void reset() {
    correct = 0;
    anchors = 0;
    absError = 0;
    boxValues = 0;
  }
}
