package dev.jdetect.core.coder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jdetect.core.nd.Scalars;

/**
 * Encodes boxes as the distances from a reference box's centre to their four edges, and decodes
 * such distances back to boxes: FCOS's box parameterisation, with the semantics of torchvision's
 * {@code models.detection._utils.BoxLinearCoder}.
 *
 * <p>With a reference box of centre {@code (cx, cy)}, width {@code w} and height {@code h}, a box
 * {@code (x1, y1, x2, y2)} is encoded as
 *
 * <pre>
 * (cx - x1, cy - y1, x2 - cx, y2 - cy)                  without normalisation
 * ((cx - x1) / w, (cy - y1) / h, (x2 - cx) / w, (y2 - cy) / h)   normalised by size (FCOS)
 * </pre>
 *
 * <p>Both directions take arrays of any leading shape ending in 4, are plain NDArray ops on the
 * caller's device and keep autograd. Instances are immutable and thread-safe.
 */
public final class BoxLinearCoder {

  private final boolean normalizeBySize;

  /**
   * Creates a coder.
   *
   * @param normalizeBySize whether distances are divided by the reference box's width and height
   *     (torchvision's default and FCOS's choice)
   */
  public BoxLinearCoder(boolean normalizeBySize) {
    this.normalizeBySize = normalizeBySize;
  }

  /**
   * Returns whether distances are divided by the reference box's size.
   *
   * @return true when normalised
   */
  public boolean isNormalizeBySize() {
    return normalizeBySize;
  }

  /**
   * Encodes boxes against reference boxes of the same shape.
   *
   * @param reference {@code (..., 4)} reference boxes (anchors), corner form
   * @param boxes {@code (..., 4)} boxes to encode, corner form
   * @return {@code (..., 4)} distances {@code (left, top, right, bottom)}
   * @throws IllegalArgumentException if the shapes differ or do not end in 4
   */
  public NDArray encode(NDArray reference, NDArray boxes) {
    check(reference, boxes, "reference", "boxes");
    NDArray cx = centre(reference, 0);
    NDArray cy = centre(reference, 1);
    NDArray targets =
        NDArrays.stack(
            new NDList(
                cx.sub(coord(boxes, 0)),
                cy.sub(coord(boxes, 1)),
                coord(boxes, 2).sub(cx),
                coord(boxes, 3).sub(cy)),
            -1);
    return normalizeBySize ? targets.div(sizes(reference)) : targets;
  }

  /**
   * Decodes distances against reference boxes.
   *
   * @param codes {@code (..., 4)} distances {@code (left, top, right, bottom)}, as {@link #encode}
   *     returns them
   * @param reference {@code (..., 4)} reference boxes of the same shape, corner form; converted to
   *     the codes' data type first
   * @return {@code (..., 4)} boxes in corner form
   * @throws IllegalArgumentException if the shapes differ or do not end in 4
   */
  public NDArray decode(NDArray codes, NDArray reference) {
    check(codes, reference, "codes", "reference");
    NDArray boxes = reference.toType(codes.getDataType(), false);
    NDArray cx = centre(boxes, 0);
    NDArray cy = centre(boxes, 1);
    NDArray d = normalizeBySize ? codes.mul(sizes(boxes)) : codes;
    return NDArrays.stack(
        new NDList(
            cx.sub(coord(d, 0)), cy.sub(coord(d, 1)), cx.add(coord(d, 2)), cy.add(coord(d, 3))),
        -1);
  }

  private static NDArray coord(NDArray boxes, int k) {
    return boxes.get("..., " + k);
  }

  /**
   * {@code 0.5 * (x1 + x2)} (k = 0) or {@code 0.5 * (y1 + y2)} (k = 1), as torchvision orders it.
   */
  private static NDArray centre(NDArray boxes, int k) {
    return Scalars.mul(coord(boxes, k).add(coord(boxes, k + 2)), 0.5);
  }

  /** {@code (w, h, w, h)} of every box. */
  private static NDArray sizes(NDArray boxes) {
    NDArray w = coord(boxes, 2).sub(coord(boxes, 0));
    NDArray h = coord(boxes, 3).sub(coord(boxes, 1));
    return NDArrays.stack(new NDList(w, h, w, h), -1);
  }

  private static void check(NDArray a, NDArray b, String nameA, String nameB) {
    if (a.getShape().dimension() < 1 || a.getShape().get(a.getShape().dimension() - 1) != 4) {
      throw new IllegalArgumentException(nameA + " must have shape (..., 4), got " + a.getShape());
    }
    if (!a.getShape().equals(b.getShape())) {
      throw new IllegalArgumentException(
          nameA
              + " "
              + a.getShape()
              + " and "
              + nameB
              + " "
              + b.getShape()
              + " must have one shape");
    }
  }
}
