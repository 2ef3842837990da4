package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.nd.Scalars;

/**
 * Dive into Deep Learning's anchor labelling for TinySSD (section "Anchor Boxes": {@code
 * assign_anchor_to_bbox}, {@code offset_boxes}, {@code offset_inverse}).
 *
 * <p>Offsets are D2L's: {@code ((c_xy - a_xy) / a_wh) / 0.1} and {@code log(eps + wh / a_wh) / 0.2}
 * with {@code eps = 1e-6}, boxes {@code (x1, y1, x2, y2)}; the encoding is invariant to scaling the
 * axes, so anchors and boxes may be relative or in pixels as long as both agree.
 */
public final class TinySsdTargets {

  /** D2L's variance of the centre offsets ({@code 10 *} in {@code offset_boxes}). */
  public static final float CENTER_VARIANCE = 0.1f;

  /** D2L's variance of the size offsets ({@code 5 *} in {@code offset_boxes}). */
  public static final float SIZE_VARIANCE = 0.2f;

  /** D2L's epsilon inside the size logarithm. */
  public static final float EPS = 1e-6f;

  private TinySsdTargets() {}

  /**
   * D2L's {@code assign_anchor_to_bbox}: every anchor whose best IoU is at least {@code threshold}
   * takes that ground truth; then, {@code G} times, the largest remaining IoU of the whole matrix
   * assigns its anchor to its ground truth and that anchor's row and that ground truth's column are
   * discarded (first maximum in row-major order on ties).
   *
   * @param iou float {@code (A, G)} IoU of anchors against ground truth
   * @param threshold the IoU at or above which an anchor is assigned (D2L: 0.5)
   * @return per anchor the ground-truth index or -1
   * @throws IllegalArgumentException if {@code iou} is not two-dimensional
   */
  public static long[] assign(NDArray iou, float threshold) {
    Shape s = iou.getShape();
    if (s.dimension() != 2) {
      throw new IllegalArgumentException("iou must be (A, G), got " + s);
    }
    int a = (int) s.get(0);
    int g = (int) s.get(1);
    long[] map = new long[a];
    java.util.Arrays.fill(map, -1);
    if (g == 0 || a == 0) {
      return map;
    }
    float[] j = iou.toType(DataType.FLOAT32, false).toFloatArray();
    for (int i = 0; i < a; i++) {
      int best = 0;
      for (int k = 1; k < g; k++) {
        if (j[i * g + k] > j[i * g + best]) {
          best = k;
        }
      }
      if (j[i * g + best] >= threshold) {
        map[i] = best;
      }
    }
    for (int round = 0; round < g; round++) {
      int arg = 0;
      for (int idx = 1; idx < j.length; idx++) {
        if (j[idx] > j[arg]) {
          arg = idx;
        }
      }
      int anchor = arg / g;
      int box = arg % g;
      map[anchor] = box;
      for (int i = 0; i < a; i++) {
        j[i * g + box] = -1f;
      }
      for (int k = 0; k < g; k++) {
        j[anchor * g + k] = -1f;
      }
    }
    return map;
  }

  /**
   * D2L's {@code offset_boxes}: the regression targets of boxes against anchors.
   *
   * @param anchors {@code (A, 4)} xyxy anchors
   * @param boxes {@code (A, 4)} xyxy boxes assigned to them
   * @return {@code (A, 4)} offsets
   */
  public static NDArray encode(NDArray anchors, NDArray boxes) {
    NDArray a = Boxes.xyxyToCxcywh(anchors);
    NDArray b = Boxes.xyxyToCxcywh(boxes);
    NDArray aXy = a.get(":, :2");
    NDArray aWh = a.get(":, 2:");
    NDArray xy = Scalars.mul(b.get(":, :2").sub(aXy), 1f / CENTER_VARIANCE).div(aWh);
    NDArray wh = Scalars.mul(b.get(":, 2:").div(aWh).add(EPS).log(), 1f / SIZE_VARIANCE);
    return NDArrays.concat(new NDList(xy, wh), 1);
  }

  /**
   * D2L's {@code offset_inverse}: boxes from predicted offsets.
   *
   * @param anchors {@code (A, 4)} xyxy anchors
   * @param offsets {@code (A, 4)} offsets
   * @return {@code (A, 4)} xyxy boxes in the anchors' frame
   */
  public static NDArray decode(NDArray anchors, NDArray offsets) {
    NDArray a = Boxes.xyxyToCxcywh(anchors);
    NDArray aWh = a.get(":, 2:");
    NDArray xy =
        Scalars.div(offsets.get(":, :2").mul(aWh), 1f / CENTER_VARIANCE).add(a.get(":, :2"));
    NDArray wh = Scalars.div(offsets.get(":, 2:"), 1f / SIZE_VARIANCE).exp().mul(aWh);
    return Boxes.cxcywhToXyxy(NDArrays.concat(new NDList(xy, wh), 1));
  }

  /**
   * D2L's {@code calc_loss} split into its two terms, each averaged over the batch: per image the
   * mean cross entropy over all anchors, and the mean over all {@code 4 A} offsets of the masked L1
   * {@code |pred * mask - target * mask|}. Their sum is D2L's {@code calc_loss(...).mean()}.
   *
   * @param clsPreds {@code (N, A, C + 1)} class logits
   * @param boxPreds {@code (N, A, 4)} predicted offsets
   * @param labels {@code (N, A)} int64 class labels, 0 background
   * @param offsets {@code (N, A, 4)} target offsets
   * @param mask {@code (N, A, 4)} 1 for assigned anchors, 0 else
   * @return {@code {class loss, box loss}} scalars
   */
  public static NDList d2lLoss(
      NDArray clsPreds, NDArray boxPreds, NDArray labels, NDArray offsets, NDArray mask) {
    long n = clsPreds.getShape().get(0);
    NDArray ce = DetectionLosses.crossEntropy(clsPreds, labels);
    NDArray cls = ce.reshape(n, -1).mean(new int[] {1}).mean();
    NDArray l1 = boxPreds.mul(mask).sub(offsets.mul(mask)).abs();
    NDArray box = l1.reshape(n, -1).mean(new int[] {1}).mean();
    return new NDList(cls, box);
  }
}
