package dev.jdetect.core.box;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.Scalars;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Box math on {@code (x1, y1, x2, y2)} boxes held in {@link NDArray}s, with torchvision's semantics
 * ({@code torchvision.ops.boxes}).
 *
 * <p>Every function is a pure composition of NDArray operations: it runs on the device of its
 * input, keeps autograd (gradients flow through {@link #area}, {@link #iou}, {@link #clip} and the
 * format conversions), and attaches its result to the manager of its (first) input. The operations
 * check shapes and dtypes, which is free, but not box contents, which would force a device
 * synchronisation on every call: call {@link #checkBoxes(NDArray, String)} once where boxes enter
 * the system (targets, user input).
 *
 * <p>Empty box sets are legal everywhere: {@code (0, 4)} boxes give empty results.
 */
public final class Boxes {

  private Boxes() {}

  /**
   * Returns the area {@code (x2 - x1) * (y2 - y1)} of each box, like torchvision's {@code
   * box_area}: int8/uint8 boxes are widened to int32 and float16/bfloat16 boxes to float32 first,
   * so that the product cannot overflow the input type.
   *
   * @param boxes {@code (N, 4)} boxes
   * @return {@code (N)} areas: float64, float32, int64 or int32 (the widened dtype of {@code
   *     boxes})
   * @throws IllegalArgumentException if {@code boxes} is not {@code (N, 4)} or its dtype is not
   *     supported
   */
  public static NDArray area(NDArray boxes) {
    requireBoxMatrix(boxes, "boxes");
    return scoped(() -> areaColumn(upcast(boxes)).reshape(-1));
  }

  /**
   * Returns the pairwise intersection-over-union matrix, like torchvision's {@code box_iou}.
   *
   * <p>Two boxes of zero area that do not intersect have a zero union; as in torchvision their IoU
   * is {@code 0 / 0 = NaN}. As torchvision, areas and intersections are computed in the widened
   * input type (int8/uint8 as int32, float16/bfloat16 as float32) and integer results are divided
   * in float32.
   *
   * @param boxesA {@code (N, 4)} boxes
   * @param boxesB {@code (M, 4)} boxes on the same device
   * @return {@code (N, M)} IoU values attached to {@code boxesA}'s manager
   * @throws IllegalArgumentException if a shape is not {@code (K, 4)}, a dtype is not numeric, or
   *     the devices differ
   */
  public static NDArray iou(NDArray boxesA, NDArray boxesB) {
    requireBoxMatrix(boxesA, "boxesA");
    requireBoxMatrix(boxesB, "boxesB");
    requireSameDevice(boxesA, "boxesA", boxesB, "boxesB");
    return scoped(
        () -> {
          Overlap o = Overlap.of(upcast(boxesA), upcast(boxesB));
          return o.asFloat(o.inter()).div(o.asFloat(o.union()));
        });
  }

  /**
   * Returns the pairwise generalized intersection-over-union matrix, like torchvision's {@code
   * generalized_box_iou}: {@code iou - (enclosing - union) / enclosing}, where {@code enclosing} is
   * the area of the smallest box holding both. Values lie in {@code [-1, 1]}. Dtypes follow {@link
   * #iou(NDArray, NDArray)} (integer boxes give a float32 result); two identical zero-area boxes
   * give {@code NaN} as in torchvision.
   *
   * @param boxesA {@code (N, 4)} boxes
   * @param boxesB {@code (M, 4)} boxes on the same device
   * @return {@code (N, M)} generalized IoU values attached to {@code boxesA}'s manager
   * @throws IllegalArgumentException if a shape is not {@code (K, 4)}, a dtype is not numeric, or
   *     the devices differ
   */
  public static NDArray generalizedIou(NDArray boxesA, NDArray boxesB) {
    requireBoxMatrix(boxesA, "boxesA");
    requireBoxMatrix(boxesB, "boxesB");
    requireSameDevice(boxesA, "boxesA", boxesB, "boxesB");
    return scoped(
        () -> {
          Overlap o = Overlap.of(upcast(boxesA), upcast(boxesB));
          NDList ac = o.a();
          NDList bc = o.b();
          NDArray ew = ac.get(2).maximum(bc.get(2)).sub(ac.get(0).minimum(bc.get(0)));
          NDArray eh = ac.get(3).maximum(bc.get(3)).sub(ac.get(1).minimum(bc.get(1)));
          NDArray enclosing = o.asFloat(clampMin0(ew).mul(clampMin0(eh)));
          NDArray union = o.asFloat(o.union());
          NDArray iou = o.asFloat(o.inter()).div(union);
          return iou.sub(enclosing.sub(union).div(enclosing));
        });
  }

  /**
   * The pairwise intersections and unions of two box sets, with the coordinate columns they were
   * computed from: {@code a}'s columns are {@code (N, 1)}, {@code b}'s {@code (1, M)}, so every
   * {@code (N, M)} op on them broadcasts.
   */
  private record Overlap(NDList a, NDList b, NDArray inter, NDArray union) {

    static Overlap of(NDArray boxesA, NDArray boxesB) {
      NDList ac = boxesA.split(4, 1);
      NDList bc = boxesB.transpose().split(4, 0);
      NDArray areaA = ac.get(2).sub(ac.get(0)).mul(ac.get(3).sub(ac.get(1)));
      NDArray areaB = bc.get(2).sub(bc.get(0)).mul(bc.get(3).sub(bc.get(1)));
      NDArray iw = ac.get(2).minimum(bc.get(2)).sub(ac.get(0).maximum(bc.get(0)));
      NDArray ih = ac.get(3).minimum(bc.get(3)).sub(ac.get(1).maximum(bc.get(1)));
      NDArray inter = clampMin0(iw).mul(clampMin0(ih));
      return new Overlap(ac, bc, inter, areaA.add(areaB).sub(inter));
    }

    /** Torch's true division of integer tensors: integer operands become float32. */
    NDArray asFloat(NDArray x) {
      return inter.getDataType().isFloating() ? x : x.toType(DataType.FLOAT32, false);
    }
  }

  /**
   * Clips boxes to an image, like torchvision's {@code clip_boxes_to_image}: x coordinates to
   * {@code [0, width]}, y coordinates to {@code [0, height]}.
   *
   * @param boxes {@code (..., 4)} boxes
   * @param height image height in pixels, {@code >= 0}
   * @param width image width in pixels, {@code >= 0}
   * @return clipped boxes of the same shape and dtype
   * @throws IllegalArgumentException if the last axis is not 4 or a size is negative
   */
  public static NDArray clip(NDArray boxes, int height, int width) {
    requireLastAxis4(boxes, "boxes");
    if (height < 0 || width < 0) {
      throw new IllegalArgumentException(
          "image size must be non-negative, got height=" + height + ", width=" + width);
    }
    return scoped(
        () -> {
          // (K, 2, 2): [k, corner, axis] with axis 0 = x, 1 = y.
          NDList xy = boxes.reshape(boxes.size() / 4, 2, 2).split(2, 2);
          // Integer boxes get integer bounds and keep their dtype, like torch's clamp.
          boolean floating = boxes.getDataType().isFloating();
          Number zero = floating ? (Number) 0f : (Number) 0;
          Number maxX = floating ? (Number) (float) width : (Number) width;
          Number maxY = floating ? (Number) (float) height : (Number) height;
          NDArray x = xy.get(0).clip(zero, maxX);
          NDArray y = xy.get(1).clip(zero, maxY);
          return x.concat(y, 2).reshape(boxes.getShape());
        });
  }

  /**
   * Returns the indices of the boxes whose width and height are both at least {@code minSize}, like
   * torchvision's {@code remove_small_boxes}.
   *
   * @param boxes {@code (N, 4)} boxes
   * @param minSize minimum side length, finite and {@code >= 0}
   * @return int64 {@code (K)} indices in increasing order
   * @throws IllegalArgumentException if the shape is wrong or {@code minSize} is negative or NaN
   */
  public static NDArray removeSmall(NDArray boxes, float minSize) {
    requireBoxMatrix(boxes, "boxes");
    if (!(minSize >= 0f) || Float.isInfinite(minSize)) {
      throw new IllegalArgumentException("minSize must be finite and >= 0, got " + minSize);
    }
    return scoped(
        () -> {
          NDList c = boxes.split(4, 1);
          NDArray keep =
              c.get(2).sub(c.get(0)).gte(minSize).logicalAnd(c.get(3).sub(c.get(1)).gte(minSize));
          return keep.reshape(-1).nonzero().reshape(-1).toType(DataType.INT64, false);
        });
  }

  /**
   * Converts {@code (x1, y1, x2, y2)} boxes to {@code (cx, cy, w, h)}, like torchvision's {@code
   * box_convert(boxes, "xyxy", "cxcywh")}.
   *
   * @param boxes {@code (..., 4)} boxes
   * @return {@code (..., 4)} centre-size boxes
   * @throws IllegalArgumentException if the last axis is not 4
   */
  public static NDArray xyxyToCxcywh(NDArray boxes) {
    requireLastAxis4(boxes, "boxes");
    int axis = boxes.getShape().dimension() - 1;
    return scoped(
        () -> {
          NDList c = boxes.split(4, axis);
          NDArray cx = Scalars.div(c.get(0).add(c.get(2)), 2f);
          NDArray cy = Scalars.div(c.get(1).add(c.get(3)), 2f);
          NDArray w = c.get(2).sub(c.get(0));
          NDArray h = c.get(3).sub(c.get(1));
          return concat(axis, cx, cy, w, h);
        });
  }

  /**
   * Converts {@code (cx, cy, w, h)} boxes to {@code (x1, y1, x2, y2)}, like torchvision's {@code
   * box_convert(boxes, "cxcywh", "xyxy")}.
   *
   * @param boxes {@code (..., 4)} centre-size boxes
   * @return {@code (..., 4)} corner boxes
   * @throws IllegalArgumentException if the last axis is not 4
   */
  public static NDArray cxcywhToXyxy(NDArray boxes) {
    requireLastAxis4(boxes, "boxes");
    int axis = boxes.getShape().dimension() - 1;
    return scoped(
        () -> {
          NDList c = boxes.split(4, axis);
          NDArray halfW = Scalars.mul(c.get(2), 0.5f);
          NDArray halfH = Scalars.mul(c.get(3), 0.5f);
          return concat(
              axis,
              c.get(0).sub(halfW),
              c.get(1).sub(halfH),
              c.get(0).add(halfW),
              c.get(1).add(halfH));
        });
  }

  /**
   * Converts {@code (x, y, w, h)} boxes (top-left corner and size) to {@code (x1, y1, x2, y2)},
   * like torchvision's {@code box_convert(boxes, "xywh", "xyxy")}.
   *
   * @param boxes {@code (..., 4)} corner-size boxes
   * @return {@code (..., 4)} corner boxes
   * @throws IllegalArgumentException if the last axis is not 4
   */
  public static NDArray xywhToXyxy(NDArray boxes) {
    requireLastAxis4(boxes, "boxes");
    int axis = boxes.getShape().dimension() - 1;
    return scoped(
        () -> {
          NDList c = boxes.split(4, axis);
          return concat(axis, c.get(0), c.get(1), c.get(0).add(c.get(2)), c.get(1).add(c.get(3)));
        });
  }

  /**
   * Converts {@code (x1, y1, x2, y2)} boxes to {@code (x, y, w, h)} (top-left corner and size),
   * like torchvision's {@code box_convert(boxes, "xyxy", "xywh")}.
   *
   * @param boxes {@code (..., 4)} corner boxes
   * @return {@code (..., 4)} corner-size boxes
   * @throws IllegalArgumentException if the last axis is not 4
   */
  public static NDArray xyxyToXywh(NDArray boxes) {
    requireLastAxis4(boxes, "boxes");
    int axis = boxes.getShape().dimension() - 1;
    return scoped(
        () -> {
          NDList c = boxes.split(4, axis);
          return concat(axis, c.get(0), c.get(1), c.get(2).sub(c.get(0)), c.get(3).sub(c.get(1)));
        });
  }

  /**
   * Validates a box set: shape {@code (N, 4)} (N may be 0), a numeric dtype, finite values, {@code
   * x2 >= x1} and {@code y2 >= y1}. Zero-size boxes pass. This synchronises with the device once;
   * call it where boxes enter the system rather than inside hot loops.
   *
   * @param boxes the boxes to check
   * @param argName the name used in the exception message
   * @throws IllegalArgumentException naming {@code argName}, the shape, or the first bad row and
   *     its values
   */
  public static void checkBoxes(NDArray boxes, String argName) {
    requireBoxMatrix(boxes, argName);
    boolean bad;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray notFinite = boxes.isNaN().logicalOr(boxes.isInfinite()).any();
      NDList c = boxes.split(4, 1);
      NDArray inverted = c.get(2).lt(c.get(0)).logicalOr(c.get(3).lt(c.get(1))).any();
      bad = notFinite.logicalOr(inverted).getBoolean();
    }
    if (!bad) {
      return;
    }
    // Error path only: find the first offending row on the host for a precise message.
    double[] v;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      v = boxes.toType(DataType.FLOAT64, false).toDoubleArray();
    }
    for (int i = 0; i < v.length / 4; i++) {
      double x1 = v[4 * i];
      double y1 = v[4 * i + 1];
      double x2 = v[4 * i + 2];
      double y2 = v[4 * i + 3];
      String row = String.format(Locale.ROOT, "[%s, %s, %s, %s]", x1, y1, x2, y2);
      if (!Double.isFinite(x1)
          || !Double.isFinite(y1)
          || !Double.isFinite(x2)
          || !Double.isFinite(y2)) {
        throw new IllegalArgumentException(
            argName + " must be finite, row " + i + " is " + row + " (shape " + shape(boxes) + ")");
      }
      if (x2 < x1 || y2 < y1) {
        throw new IllegalArgumentException(
            argName
                + " must satisfy x2 >= x1 and y2 >= y1, row "
                + i
                + " is "
                + row
                + " (shape "
                + shape(boxes)
                + ")");
      }
    }
    throw new IllegalArgumentException(argName + " failed validation (shape " + shape(boxes) + ")");
  }

  /**
   * Runs {@code body} in an {@link NDScope} that closes the body's temporaries and keeps only its
   * result.
   */
  private static NDArray scoped(Supplier<NDArray> body) {
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      out = body.get();
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  private static NDArray areaColumn(NDArray boxes) {
    NDList c = boxes.split(4, 1);
    return c.get(2).sub(c.get(0)).mul(c.get(3).sub(c.get(1)));
  }

  /** {@code clamp(min = 0)}: same forward and gradient mask as torch's one-sided clamp. */
  private static NDArray clampMin0(NDArray x) {
    return x.getDataType().isFloating() ? x.clip(0f, Float.POSITIVE_INFINITY) : x.maximum(0);
  }

  private static NDArray concat(int axis, NDArray... parts) {
    return NDArrays.concat(new NDList(parts), axis);
  }

  /**
   * torchvision's {@code _upcast}: float16/bfloat16 to float32 and int8/uint8 to int32, so that
   * products cannot overflow; float32/64 and int32/64 are kept.
   */
  private static NDArray upcast(NDArray boxes) {
    switch (boxes.getDataType()) {
      case FLOAT16:
      case BFLOAT16:
        return boxes.toType(DataType.FLOAT32, false);
      case INT8:
      case UINT8:
        return boxes.toType(DataType.INT32, false);
      default:
        return boxes;
    }
  }

  private static void requireBoxMatrix(NDArray boxes, String argName) {
    if (boxes == null) {
      throw new IllegalArgumentException(argName + " must not be null");
    }
    Shape s = boxes.getShape();
    if (s.dimension() != 2 || s.get(1) != 4) {
      throw new IllegalArgumentException(argName + " must have shape (N, 4), got " + shape(boxes));
    }
    requireNumeric(boxes, argName);
  }

  private static void requireLastAxis4(NDArray boxes, String argName) {
    if (boxes == null) {
      throw new IllegalArgumentException(argName + " must not be null");
    }
    Shape s = boxes.getShape();
    if (s.dimension() < 1 || s.get(s.dimension() - 1) != 4) {
      throw new IllegalArgumentException(
          argName + " must have shape (..., 4), got " + shape(boxes));
    }
    requireNumeric(boxes, argName);
  }

  /**
   * The dtypes box operations accept; others (int16, unsigned 16-64 bit) would crash the engine.
   */
  private static final Set<DataType> NUMERIC =
      EnumSet.of(
          DataType.FLOAT16,
          DataType.BFLOAT16,
          DataType.FLOAT32,
          DataType.FLOAT64,
          DataType.UINT8,
          DataType.INT8,
          DataType.INT32,
          DataType.INT64);

  private static void requireNumeric(NDArray array, String argName) {
    DataType t = array.getDataType();
    if (!NUMERIC.contains(t)) {
      throw new IllegalArgumentException(
          argName
              + " has dtype "
              + t
              + ", which box operations do not support; use one of "
              + NUMERIC
              + " (PyTorch through DJL aborts the JVM on int16 arrays)");
    }
  }

  private static void requireSameDevice(NDArray a, String nameA, NDArray b, String nameB) {
    if (!a.getDevice().equals(b.getDevice())) {
      throw new IllegalArgumentException(
          nameA
              + " is on "
              + a.getDevice()
              + " but "
              + nameB
              + " is on "
              + b.getDevice()
              + "; both must be on the same device");
    }
  }

  private static String shape(NDArray array) {
    return array.getShape().toString();
  }
}
