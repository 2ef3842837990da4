package dev.jdetect.core.coder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.Scalars;

/**
 * FCOS's box encoding (torchvision's {@code BoxLinearCoder}): a box is coded by the distances from
 * the centre of a reference box (an anchor point) to its four edges {@code (left, top, right,
 * bottom)}, optionally divided by the reference box's width and height.
 *
 * <p>Both methods take {@code (..., 4)} arrays of the same shape, keep autograd, and return their
 * result in the caller's scope.
 */
public final class BoxLinearCoder {

  private final boolean normalizeBySize;

  /**
   * Creates a coder.
   *
   * @param normalizeBySize whether distances are divided by the reference box's size (torchvision's
   *     FCOS: true)
   */
  public BoxLinearCoder(boolean normalizeBySize) {
    this.normalizeBySize = normalizeBySize;
  }

  /**
   * Encodes boxes against reference boxes (torchvision's {@code encode(reference_boxes,
   * proposals)}).
   *
   * @param reference {@code (..., 4)} reference boxes (anchors)
   * @param boxes {@code (..., 4)} boxes to encode, the same shape
   * @return {@code (..., 4)} distances {@code (left, top, right, bottom)}
   * @throws IllegalArgumentException if the shapes differ or the last axis is not 4
   */
  public NDArray encode(NDArray reference, NDArray boxes) {
    int axis = check(reference, "reference", boxes, "boxes");
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList r = reference.split(4, axis);
      NDList b = boxes.split(4, axis);
      NDArray cx = Scalars.mul(r.get(0).add(r.get(2)), 0.5);
      NDArray cy = Scalars.mul(r.get(1).add(r.get(3)), 0.5);
      out =
          NDArrays.concat(
              new NDList(cx.sub(b.get(0)), cy.sub(b.get(1)), b.get(2).sub(cx), b.get(3).sub(cy)),
              axis);
      if (normalizeBySize) {
        out = out.div(sizes(r, axis));
      }
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /**
   * Decodes distances into boxes (torchvision's {@code decode(rel_codes, boxes)}).
   *
   * @param codes {@code (..., 4)} distances {@code (left, top, right, bottom)}
   * @param reference {@code (..., 4)} reference boxes (anchors), the same shape
   * @return {@code (..., 4)} boxes {@code (x1, y1, x2, y2)} in the codes' data type
   * @throws IllegalArgumentException if the shapes differ or the last axis is not 4
   */
  public NDArray decode(NDArray codes, NDArray reference) {
    int axis = check(codes, "codes", reference, "reference");
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList r = reference.toType(codes.getDataType(), false).split(4, axis);
      NDArray cx = Scalars.mul(r.get(0).add(r.get(2)), 0.5);
      NDArray cy = Scalars.mul(r.get(1).add(r.get(3)), 0.5);
      NDArray scaled = normalizeBySize ? codes.mul(sizes(r, axis)) : codes;
      NDList d = scaled.split(4, axis);
      out =
          NDArrays.concat(
              new NDList(cx.sub(d.get(0)), cy.sub(d.get(1)), cx.add(d.get(2)), cy.add(d.get(3))),
              axis);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /** {@code (w, h, w, h)} of reference boxes split along {@code axis}. */
  private static NDArray sizes(NDList r, int axis) {
    NDArray w = r.get(2).sub(r.get(0));
    NDArray h = r.get(3).sub(r.get(1));
    return NDArrays.concat(new NDList(w, h, w, h), axis);
  }

  private static int check(NDArray a, String nameA, NDArray b, String nameB) {
    if (a == null || b == null) {
      throw new IllegalArgumentException(nameA + " and " + nameB + " must not be null");
    }
    Shape s = a.getShape();
    if (s.dimension() < 1 || s.get(s.dimension() - 1) != 4 || !s.equals(b.getShape())) {
      throw new IllegalArgumentException(
          nameA
              + " and "
              + nameB
              + " must have one shape (..., 4), got "
              + s
              + " and "
              + b.getShape());
    }
    return s.dimension() - 1;
  }
}
