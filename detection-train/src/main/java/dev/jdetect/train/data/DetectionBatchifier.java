package dev.jdetect.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;

/**
 * Batches per-image targets with different numbers of boxes by padding them to a common count.
 *
 * <p>Each record's label list holds arrays whose first axis is the box count {@code N_i}, e.g.
 * {@code [boxes (N_i, 4) float32, labels (N_i) int64, difficult (N_i) boolean]} (the layout of
 * {@link DetectionSample#toLabels()}). The batch holds, for each position, an array of shape {@code
 * (B, Nmax, ...)} where {@code Nmax = max(N_i, minBoxes)}. <b>Padding sentinel:</b> padded rows are
 * appended after the real rows and filled with {@code -1} in integer arrays (so a padded row has
 * <b>label -1</b>), {@code 0} in floating-point arrays (boxes {@code (0, 0, 0, 0)}) and {@code
 * false} in boolean arrays. Real labels are always {@code >= 1}, so {@code labels >= 0} (or {@code
 * != -1}) is the mask of real rows. Array names are kept.
 *
 * <p>{@link #unbatchify} reverses this: it finds the number of real rows of each image from its
 * first integer array (the labels) and cuts the padding off.
 */
public final class DetectionBatchifier implements Batchifier {

  private static final long serialVersionUID = 1L;

  /** The value of padded rows in integer arrays (labels). */
  public static final int PAD_LABEL = -1;

  private final int minBoxes;

  /** Creates a batchifier that pads to the largest box count of each batch. */
  public DetectionBatchifier() {
    this(0);
  }

  /**
   * Creates a batchifier that pads to at least {@code minBoxes} rows (fixed shapes across batches
   * when every image has at most that many boxes).
   *
   * @param minBoxes the minimum padded count, {@code >= 0}
   */
  public DetectionBatchifier(int minBoxes) {
    if (minBoxes < 0) {
      throw new IllegalArgumentException("minBoxes must be >= 0, got " + minBoxes);
    }
    this.minBoxes = minBoxes;
  }

  /** {@inheritDoc} */
  @Override
  public NDList batchify(NDList[] inputs) {
    if (inputs.length == 0) {
      throw new IllegalArgumentException("inputs must not be empty");
    }
    int width = inputs[0].size();
    long nmax = minBoxes;
    for (int b = 0; b < inputs.length; b++) {
      if (inputs[b].size() != width) {
        throw new IllegalArgumentException(
            "every record must have "
                + width
                + " label arrays, record "
                + b
                + " has "
                + inputs[b].size());
      }
      long n = -1;
      for (int j = 0; j < width; j++) {
        NDArray a = inputs[b].get(j);
        if (a.getShape().dimension() == 0) {
          throw new IllegalArgumentException(
              "label array " + j + " of record " + b + " must have a box axis, got a scalar");
        }
        long nj = a.getShape().get(0);
        if (n >= 0 && nj != n) {
          throw new IllegalArgumentException(
              "label arrays of record " + b + " disagree on the box count: " + n + " vs " + nj);
        }
        n = nj;
      }
      nmax = Math.max(nmax, n);
    }
    NDManager manager = inputs[0].get(0).getManager();
    NDList out = new NDList(width);
    try (NDManager sub = manager.newSubManager()) {
      for (int j = 0; j < width; j++) {
        NDArray[] padded = new NDArray[inputs.length];
        for (int b = 0; b < inputs.length; b++) {
          NDArray a = inputs[b].get(j);
          long n = a.getShape().get(0);
          if (n == nmax) {
            padded[b] = a;
            continue;
          }
          Shape rest = a.getShape().slice(1);
          Shape padShape = new Shape(nmax - n).addAll(rest);
          NDArray pad = padOf(sub, padShape, a.getDataType());
          padded[b] = NDArrays.concat(new NDList(a.toDevice(pad.getDevice(), false), pad), 0);
          padded[b].attach(sub);
        }
        NDArray stacked = NDArrays.stack(new NDList(padded), 0);
        stacked.attach(manager);
        String name = inputs[0].get(j).getName();
        if (name != null) {
          stacked.setName(name);
        }
        out.add(stacked);
      }
    }
    return out;
  }

  private static NDArray padOf(NDManager m, Shape shape, DataType type) {
    if (type == DataType.BOOLEAN) {
      return m.zeros(shape, DataType.BOOLEAN);
    }
    if (type.isInteger()) {
      return m.full(shape, PAD_LABEL, type);
    }
    return m.zeros(shape, type);
  }

  /** {@inheritDoc} */
  @Override
  public NDList[] unbatchify(NDList inputs) {
    if (inputs.isEmpty()) {
      return new NDList[0];
    }
    int batch = (int) inputs.get(0).getShape().get(0);
    int labelPos = -1;
    for (int j = 0; j < inputs.size(); j++) {
      if (inputs.get(j).getDataType().isInteger() && inputs.get(j).getShape().dimension() == 2) {
        labelPos = j;
        break;
      }
    }
    NDList[] out = new NDList[batch];
    for (int b = 0; b < batch; b++) {
      long n = inputs.get(0).getShape().get(1);
      if (labelPos >= 0) {
        long[] labels = inputs.get(labelPos).get(b).toLongArray();
        n = 0;
        while (n < labels.length && labels[(int) n] != PAD_LABEL) {
          n++;
        }
      }
      NDList list = new NDList(inputs.size());
      for (int j = 0; j < inputs.size(); j++) {
        NDArray a = inputs.get(j).get(new NDIndex("{}, 0:{}", b, n));
        String name = inputs.get(j).getName();
        if (name != null) {
          a.setName(name);
        }
        list.add(a);
      }
      out[b] = list;
    }
    return out;
  }

  /**
   * Returns the number of real (non-padded) rows of each image of a batched labels array.
   *
   * @param batchedLabels int64 {@code (B, Nmax)} from {@link #batchify}
   * @return B counts
   */
  public static int[] countBoxes(NDArray batchedLabels) {
    Shape s = batchedLabels.getShape();
    if (s.dimension() != 2 || !batchedLabels.getDataType().isInteger()) {
      throw new IllegalArgumentException(
          "batchedLabels must be integer (B, Nmax), got " + batchedLabels.getDataType() + " " + s);
    }
    long[] v = batchedLabels.toType(DataType.INT64, false).toLongArray();
    int b = (int) s.get(0);
    int nmax = (int) s.get(1);
    int[] out = new int[b];
    for (int i = 0; i < b; i++) {
      for (int k = 0; k < nmax; k++) {
        if (v[i * nmax + k] != PAD_LABEL) {
          out[i]++;
        }
      }
    }
    return out;
  }
}
