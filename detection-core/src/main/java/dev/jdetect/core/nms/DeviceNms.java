package dev.jdetect.core.nms;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Greedy NMS as NDArray ops on the arrays' own device.
 *
 * <p>Boxes are sorted stably by descending score and processed in blocks. Within a block, boxes
 * overlapping an already kept box (IoU > t, same group) are dropped; the rest are resolved with the
 * fixed-point iteration {@code keep = alive & !(keep · M)} where {@code M[i][j]} says that an
 * earlier box {@code i} overlaps a later box {@code j}. The iteration settles after at most (the
 * longest suppression chain) steps and its fixed point is the unique greedy solution.
 */
final class DeviceNms {

  private static final int BLOCK = 1024;

  private DeviceNms() {}

  static NDArray run(NDArray boxes, NDArray scores, NDArray groupIds, double threshold, int topK) {
    NDManager manager = boxes.getManager();
    int n = Math.toIntExact(boxes.getShape().get(0));
    try (NDManager sub = manager.newSubManager()) {
      boxes.tempAttach(sub);
      scores.tempAttach(sub);
      if (groupIds != null) {
        groupIds.tempAttach(sub);
      }
      // the input's precision, as torchvision: float64 stays float64, other types become float32
      NDArray b = boxes.toType(working(boxes), false);
      NDArray s = scores.toType(working(scores), false);
      // float32 IoUs compare with the threshold as torchvision's double comparison does
      Number t = b.getDataType() == DataType.FLOAT64 ? threshold : Nms.floatThreshold(threshold);
      validate(b, s);

      NDArray order = stableDescendingOrder(s, sub);
      NDArray sb = b.get(order);
      NDArray sArea = area(sb);
      NDArray sg = groupIds == null ? null : groupIds.toType(DataType.INT64, false).get(order);

      NDList keptPositions = new NDList();
      NDArray keptBoxes = null;
      NDArray keptArea = null;
      NDArray keptGroups = null;
      long keptCount = 0;
      for (int s0 = 0; s0 < n && keptCount < topK; s0 += BLOCK) {
        int e = Math.min(n, s0 + BLOCK);
        // 1. candidates of this block that no kept box suppresses
        NDArray cand = sub.arange(s0, e, 1, DataType.INT64);
        if (keptCount > 0) {
          String range = s0 + ":" + e;
          NDArray blkGroups = sg == null ? null : sg.get(range);
          NDArray hit =
              overlaps(
                  keptBoxes, keptArea, keptGroups, sb.get(range), sArea.get(range), blkGroups, t);
          NDArray alive = hit.toType(DataType.FLOAT32, false).sum(new int[] {0}).eq(0f);
          cand = cand.get(alive.nonzero().reshape(-1));
        }
        int a = Math.toIntExact(cand.getShape().get(0));
        if (a == 0) {
          continue;
        }
        // 2. greedy among the survivors: fixed point of keep = !(keep . M)
        NDArray cb = sb.get(cand);
        NDArray ca = sArea.get(cand);
        NDArray cg = sg == null ? null : sg.get(cand);
        NDArray idx = sub.arange(0, a, 1, DataType.INT32);
        NDArray earlier = idx.reshape(a, 1).lt(idx.reshape(1, a));
        NDArray m =
            overlaps(cb, ca, cg, cb, ca, cg, t).logicalAnd(earlier).toType(DataType.FLOAT32, false);
        NDArray keep = sub.ones(new Shape(1, a), DataType.FLOAT32);
        for (int iter = 0; iter <= a; iter++) {
          NDArray next = keep.matMul(m).eq(0f).toType(DataType.FLOAT32, false);
          if (next.contentEquals(keep)) {
            break;
          }
          keep = next;
        }
        NDArray pos = cand.get(keep.reshape(a).nonzero().reshape(-1));
        long kc = pos.getShape().get(0);
        if (kc == 0) {
          continue;
        }
        keptPositions.add(pos);
        NDArray newBoxes = sb.get(pos);
        NDArray newArea = sArea.get(pos);
        keptBoxes = keptBoxes == null ? newBoxes : keptBoxes.concat(newBoxes, 0);
        keptArea = keptArea == null ? newArea : keptArea.concat(newArea, 0);
        if (sg != null) {
          NDArray newGroups = sg.get(pos);
          keptGroups = keptGroups == null ? newGroups : keptGroups.concat(newGroups, 0);
        }
        keptCount += kc;
      }
      NDArray result;
      if (keptPositions.isEmpty()) {
        result = sub.create(new long[0]);
      } else {
        NDArray all =
            keptPositions.size() == 1 ? keptPositions.get(0) : NDArrays.concat(keptPositions);
        result = order.get(all);
        if (keptCount > topK) {
          result = result.get("0:" + topK);
        }
      }
      result = result.toType(DataType.INT64, false);
      result.attach(manager);
      return result;
    }
  }

  private static void validate(NDArray b, NDArray s) {
    if (b.isNaN().any().getBoolean() || b.isInfinite().any().getBoolean()) {
      throw new IllegalArgumentException("boxes must be finite, got NaN or infinite coordinates");
    }
    NDArray x1 = b.get(":, 0");
    NDArray y1 = b.get(":, 1");
    NDArray x2 = b.get(":, 2");
    NDArray y2 = b.get(":, 3");
    if (x2.lt(x1).any().getBoolean() || y2.lt(y1).any().getBoolean()) {
      throw new IllegalArgumentException("boxes must satisfy x2 >= x1 and y2 >= y1");
    }
    if (s.isNaN().any().getBoolean()) {
      throw new IllegalArgumentException("scores must not be NaN");
    }
  }

  private static DataType working(NDArray a) {
    return a.getDataType() == DataType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
  }

  /** Areas (x2 - x1) * (y2 - y1) in the boxes' precision, as torchvision. */
  private static NDArray area(NDArray b) {
    return b.get(":, 2").sub(b.get(":, 0")).mul(b.get(":, 3").sub(b.get(":, 1")));
  }

  /**
   * (P, Q) boolean: IoU(a_p, b_q) > t (torchvision's arithmetic with a as the kept box) and same
   * group when groups are given.
   */
  private static NDArray overlaps(
      NDArray a, NDArray areaA, NDArray ga, NDArray b, NDArray areaB, NDArray gb, Number t) {
    long p = a.getShape().get(0);
    long q = b.getShape().get(0);
    NDArray xx1 = a.get(":, 0").reshape(p, 1).maximum(b.get(":, 0").reshape(1, q));
    NDArray yy1 = a.get(":, 1").reshape(p, 1).maximum(b.get(":, 1").reshape(1, q));
    NDArray xx2 = a.get(":, 2").reshape(p, 1).minimum(b.get(":, 2").reshape(1, q));
    NDArray yy2 = a.get(":, 3").reshape(p, 1).minimum(b.get(":, 3").reshape(1, q));
    NDArray w = xx2.sub(xx1).maximum(0f);
    NDArray h = yy2.sub(yy1).maximum(0f);
    NDArray inter = w.mul(h);
    NDArray denom = areaA.reshape(p, 1).add(areaB.reshape(1, q)).sub(inter);
    NDArray mask = inter.div(denom).gt(t);
    if (ga != null) {
      mask = mask.logicalAnd(ga.reshape(p, 1).eq(gb.reshape(1, q)));
    }
    return mask;
  }

  /**
   * Indices sorting {@code s} by descending value with ties in ascending index order, without
   * relying on a stable device sort: values are replaced by their dense rank and sorted on the
   * unique key {@code rank * n + index}.
   */
  static NDArray stableDescendingOrder(NDArray s, NDManager sub) {
    long n = s.getShape().get(0);
    NDArray perm = s.argSort(0, false);
    NDArray sorted = s.get(perm);
    NDArray changes = sorted.get("1:").neq(sorted.get(":-1")).toType(DataType.INT64, false);
    NDArray dense = sub.zeros(new Shape(1), DataType.INT64).concat(changes.cumSum(0), 0);
    NDArray inverse = perm.argSort(0, true);
    NDArray rank = dense.get(inverse);
    NDArray key = rank.mul(n).add(sub.arange(0, (int) n, 1, DataType.INT64));
    return key.argSort(0, true);
  }
}
