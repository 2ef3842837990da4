package dev.jdetect.core.roi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.function.BinaryOperator;

/** Helpers for the (K, 5) RoI format {@code (batchIndex, x1, y1, x2, y2)} used by RoI ops. */
public final class Rois {

  private Rois() {}

  /**
   * Concatenates per-image boxes into the (K, 5) RoI format, the batch index of image {@code i}
   * being {@code i} (torchvision {@code _convert_to_roi_format}).
   *
   * @param boxesPerImage one (K_i, 4) float array per image (K_i may be 0); not empty
   * @return float32 (sum K_i, 5) RoIs attached to the first array's manager
   */
  public static NDArray fromBoxes(List<NDArray> boxesPerImage) {
    if (boxesPerImage == null || boxesPerImage.isEmpty()) {
      throw new IllegalArgumentException("boxesPerImage must not be null or empty");
    }
    for (int i = 0; i < boxesPerImage.size(); i++) {
      NDArray b = boxesPerImage.get(i);
      if (b == null) {
        throw new IllegalArgumentException("boxesPerImage[" + i + "] must not be null");
      }
      Shape s = b.getShape();
      if (s.dimension() != 2 || s.get(1) != 4) {
        throw new IllegalArgumentException(
            "boxesPerImage[" + i + "] must have shape (K, 4), got " + s);
      }
    }
    NDManager manager = boxesPerImage.get(0).getManager();
    try (NDManager sub = manager.newSubManager()) {
      NDList parts = new NDList();
      for (int i = 0; i < boxesPerImage.size(); i++) {
        NDArray b = boxesPerImage.get(i);
        long k = b.getShape().get(0);
        NDArray boxes = b.toType(DataType.FLOAT32, true);
        boxes.attach(sub);
        NDArray ids = sub.full(new Shape(k, 1), (float) i, DataType.FLOAT32);
        parts.add(ids.concat(boxes.toDevice(ids.getDevice(), false), 1));
      }
      NDArray rois = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
      rois.attach(manager);
      return rois;
    }
  }

  /**
   * Checks the (K, 5) RoI array against a batch of {@code batchSize} images and returns a Java copy
   * of it.
   */
  static float[] check(NDArray rois, long batchSize) {
    if (rois == null) {
      throw new IllegalArgumentException("rois must not be null");
    }
    Shape s = rois.getShape();
    if (s.dimension() != 2 || s.get(1) != 5) {
      throw new IllegalArgumentException("rois must have shape (K, 5), got " + s);
    }
    if (!rois.getDataType().isFloating()) {
      throw new IllegalArgumentException("rois must be floating point, got " + rois.getDataType());
    }
    float[] r;
    try (NDManager sub = rois.getManager().newSubManager()) {
      rois.tempAttach(sub);
      r = rois.toType(DataType.FLOAT32, false).toFloatArray();
    }
    int k = r.length / 5;
    for (int i = 0; i < k; i++) {
      float b = r[5 * i];
      float x1 = r[5 * i + 1];
      float y1 = r[5 * i + 2];
      float x2 = r[5 * i + 3];
      float y2 = r[5 * i + 4];
      if (!(Float.isFinite(x1) && Float.isFinite(y1) && Float.isFinite(x2) && Float.isFinite(y2))) {
        throw new IllegalArgumentException("rois must be finite, got row " + i + " = " + row(r, i));
      }
      if (x2 < x1 || y2 < y1) {
        throw new IllegalArgumentException(
            "rois must satisfy x2 >= x1 and y2 >= y1, got row " + i + " = " + row(r, i));
      }
      if (!(b >= 0 && b < batchSize && b == Math.floor(b))) {
        throw new IllegalArgumentException(
            "rois batch index must be an integer in [0, "
                + batchSize
                + "), got row "
                + i
                + " = "
                + row(r, i));
      }
    }
    return r;
  }

  /**
   * Applies a (K, 5)-RoI op to boxes given per image: the RoIs live in a sub-manager that is closed
   * afterwards, the result is attached to the features' manager.
   */
  static NDArray applyToBoxes(
      NDArray features, List<NDArray> boxesPerImage, BinaryOperator<NDArray> roiOp) {
    checkFeatures(features, "features");
    try (NDManager sub = features.getManager().newSubManager()) {
      NDArray rois = fromBoxes(boxesPerImage);
      rois.attach(sub);
      NDArray out = roiOp.apply(features, rois);
      out.attach(features.getManager());
      return out;
    }
  }

  /** Checks a builder's output size: both sides {@code >= 1}. */
  static void checkOutputSize(int height, int width) {
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException(
          "output size must be >= 1, got (" + height + ", " + width + ")");
    }
  }

  /** Checks a builder's spatial scale: finite and {@code > 0}. */
  static void checkSpatialScale(float spatialScale) {
    if (!(spatialScale > 0) || Float.isInfinite(spatialScale)) {
      throw new IllegalArgumentException(
          "spatialScale must be finite and > 0, got " + spatialScale);
    }
  }

  static void checkFeatures(NDArray features, String name) {
    if (features == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    Shape s = features.getShape();
    if (s.dimension() != 4) {
      throw new IllegalArgumentException(name + " must have shape (N, C, H, W), got " + s);
    }
    if (features.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(name + " must be float32, got " + features.getDataType());
    }
  }

  private static String row(float[] r, int i) {
    return "["
        + r[5 * i]
        + ", "
        + r[5 * i + 1]
        + ", "
        + r[5 * i + 2]
        + ", "
        + r[5 * i + 3]
        + ", "
        + r[5 * i + 4]
        + "]";
  }
}
