package dev.jdetect.core.match;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Assigns anchor points to ground-truth boxes as FCOS does (torchvision's {@code
 * FCOS.compute_loss}): an anchor matches a box when
 *
 * <ul>
 *   <li>its centre lies within {@code radius x anchor size} of the box centre in both directions
 *       (centre sampling),
 *   <li>its centre lies strictly inside the box, and
 *   <li>the largest of its four distances to the box edges falls in its level's size range: above
 *       {@code 4 x anchor size} (no lower bound on the first level) and below {@code 8 x anchor
 *       size} (no upper bound on the last level).
 * </ul>
 *
 * Of several matching boxes the one with the smallest area wins, compared as torchvision does in
 * float32 as {@code 1e8 - area} (areas closer than float32 resolution there tie, and the first box
 * wins). Unmatched anchors get {@link #UNMATCHED}.
 *
 * <p>The computation is plain NDArray ops on the anchors' device, without gradients. Instances are
 * immutable and thread-safe.
 */
public final class FcosMatcher {

  /** The index given to an anchor that matches no box. */
  public static final long UNMATCHED = -1;

  private final float centerSamplingRadius;

  /**
   * Creates a matcher.
   *
   * @param centerSamplingRadius the centre-sampling radius in anchor sizes; torchvision's default
   *     is 1.5
   * @throws IllegalArgumentException if the radius is not positive and finite
   */
  public FcosMatcher(float centerSamplingRadius) {
    if (!(centerSamplingRadius > 0) || Float.isInfinite(centerSamplingRadius)) {
      throw new IllegalArgumentException(
          "centerSamplingRadius must be positive, got " + centerSamplingRadius);
    }
    this.centerSamplingRadius = centerSamplingRadius;
  }

  /**
   * Returns the centre-sampling radius.
   *
   * @return the radius in anchor sizes
   */
  public float getCenterSamplingRadius() {
    return centerSamplingRadius;
  }

  /**
   * Matches one image's anchors to its boxes.
   *
   * @param anchors {@code (A, 4)} float anchors of one image, corner form, levels concatenated in
   *     order (their width is the anchor size)
   * @param boxes {@code (M, 4)} ground-truth boxes, corner form, of the anchors' data type; may be
   *     empty
   * @param anchorsPerLevel how many anchors each level has; they must add up to {@code A}
   * @return {@code (A)} int64 index of the matched box, or {@link #UNMATCHED}, on the anchors'
   *     manager
   * @throws IllegalArgumentException if the shapes or level counts do not fit
   */
  public NDArray match(NDArray anchors, NDArray boxes, int[] anchorsPerLevel) {
    long total = check(anchors, boxes, anchorsPerLevel);
    NDManager caller = anchors.getManager();
    long m = boxes.getShape().get(0);
    if (m == 0) {
      return caller.full(new Shape(total), UNMATCHED, DataType.INT64);
    }
    try (NDManager scope = caller.newSubManager()) {
      NDArray a = anchors.duplicate();
      NDArray b = boxes.duplicate();
      a.attach(scope);
      b.attach(scope);
      NDArray anchorCentres = a.get(":, :2").add(a.get(":, 2:")).div(2); // (A, 2)
      NDArray boxCentres = b.get(":, :2").add(b.get(":, 2:")).div(2); // (M, 2)
      NDArray sizes = a.get(":, 2").sub(a.get(":, 0")); // (A)
      NDArray near =
          anchorCentres
              .expandDims(1)
              .sub(boxCentres.expandDims(0))
              .abs()
              .max(new int[] {2})
              .lt(sizes.mul(centerSamplingRadius).expandDims(1)); // (A, M)
      NDArray x = anchorCentres.get(":, 0:1"); // (A, 1)
      NDArray y = anchorCentres.get(":, 1:2");
      NDArray x0 = b.get(":, 0").expandDims(0); // (1, M)
      NDArray y0 = b.get(":, 1").expandDims(0);
      NDArray x1 = b.get(":, 2").expandDims(0);
      NDArray y1 = b.get(":, 3").expandDims(0);
      NDArray distances =
          NDArrays.stack(new NDList(x.sub(x0), y.sub(y0), x1.sub(x), y1.sub(y)), 2); // (A, M, 4)
      NDArray inside = distances.min(new int[] {2}).gt(0);
      NDArray lower = sizes.mul(4);
      lower.set(new NDIndex(":{}", anchorsPerLevel[0]), 0);
      NDArray upper = sizes.mul(8);
      upper.set(
          new NDIndex("{}:", total - anchorsPerLevel[anchorsPerLevel.length - 1]),
          Float.POSITIVE_INFINITY);
      NDArray largest = distances.max(new int[] {2}); // (A, M)
      NDArray inRange = largest.gt(lower.expandDims(1)).logicalAnd(largest.lt(upper.expandDims(1)));
      NDArray matches = near.logicalAnd(inside).logicalAnd(inRange);
      NDArray areas = b.get(":, 2").sub(b.get(":, 0")).mul(b.get(":, 3").sub(b.get(":, 1"))); // (M)
      NDArray preference =
          matches
              .toType(DataType.FLOAT32, false)
              .mul(areas.toType(DataType.FLOAT32, false).neg().add(1e8f).expandDims(0));
      NDArray best = preference.max(new int[] {1});
      NDArray index = preference.argMax(1).toType(DataType.INT64, false);
      NDArray result = NDArrays.where(best.lt(1e-5f), index.onesLike().neg(), index);
      result.attach(caller);
      return result;
    }
  }

  private static long check(NDArray anchors, NDArray boxes, int[] anchorsPerLevel) {
    Shape a = anchors.getShape();
    Shape b = boxes.getShape();
    if (a.dimension() != 2 || a.get(1) != 4) {
      throw new IllegalArgumentException("anchors must have shape (A, 4), got " + a);
    }
    if (b.dimension() != 2 || b.get(1) != 4) {
      throw new IllegalArgumentException("boxes must have shape (M, 4), got " + b);
    }
    if (anchorsPerLevel.length == 0) {
      throw new IllegalArgumentException("anchorsPerLevel must name at least one level");
    }
    long sum = 0;
    for (int n : anchorsPerLevel) {
      if (n < 1) {
        throw new IllegalArgumentException(
            "every level needs anchors, got " + Arrays.toString(anchorsPerLevel));
      }
      sum += n;
    }
    if (sum != a.get(0)) {
      throw new IllegalArgumentException(
          "anchorsPerLevel "
              + Arrays.toString(anchorsPerLevel)
              + " add up to "
              + sum
              + " but there are "
              + a.get(0)
              + " anchors");
    }
    return sum;
  }
}
