package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.models.ImageTargets;
import java.util.Arrays;
import java.util.List;

/**
 * Dive into Deep Learning's TinySSD loss ({@code calc_loss}) on the anchor labels of its {@code
 * multibox_target}: every anchor whose best IoU reaches the threshold takes that ground truth, and
 * every ground truth greedily takes its best remaining anchor ({@link TinySsdTargets#assign});
 * assigned anchors regress D2L's offsets ({@link TinySsdTargets#encode}). The box term is, per
 * image, the mean masked L1 over all offsets and the class term the mean cross entropy over all
 * anchors, both averaged over the batch; their sum is D2L's loss. Instances are immutable.
 */
public final class D2lLoss implements SsdLoss {

  private final float matchThreshold;

  /**
   * Creates the loss.
   *
   * @param matchThreshold the IoU at which an anchor is assigned to a ground truth (D2L: 0.5)
   */
  public D2lLoss(float matchThreshold) {
    this.matchThreshold = matchThreshold;
  }

  /**
   * The labels of the anchors of a batch.
   *
   * @param classes {@code (N, A)} int64 class labels, 0 for background
   * @param offsets {@code (N, A, 4)} target offsets, 0 for background
   * @param mask {@code (N, A, 4)} 1 for assigned anchors, 0 else
   */
  public record AnchorLabels(NDArray classes, NDArray offsets, NDArray mask) {}

  @Override
  public NDList compute(
      NDArray clsLogits, NDArray bboxRegression, NDArray anchors, List<ImageTargets> targets) {
    LossInputs.check(clsLogits, bboxRegression, anchors, targets);
    AnchorLabels l = label(anchors, targets);
    NDList d2l =
        TinySsdTargets.d2lLoss(clsLogits, bboxRegression, l.classes(), l.offsets(), l.mask());
    NDArray box = d2l.get(1);
    NDArray cls = d2l.get(0);
    box.setName(MultiBoxLoss.BOX_LOSS);
    cls.setName(MultiBoxLoss.CLASS_LOSS);
    return new NDList(box, cls);
  }

  /**
   * D2L's {@code multibox_target} on a batch: the class, offsets and mask of every anchor.
   *
   * @param anchors {@code (A, 4)} anchors, xyxy
   * @param targets one per image, boxes in the anchors' frame (the offsets do not depend on it)
   * @return the labels, on the anchors' manager and device
   */
  public AnchorLabels label(NDArray anchors, List<ImageTargets> targets) {
    NDManager manager = anchors.getManager();
    int a = (int) anchors.getShape().get(0);
    NDList labels = new NDList();
    NDList offsets = new NDList();
    NDList masks = new NDList();
    for (ImageTargets t : targets) {
      NDArray gt = t.boxes().toDevice(anchors.getDevice(), false);
      long[] cls = t.labels().toLongArray();
      long[] map = TinySsdTargets.assign(Boxes.iou(anchors, gt), matchThreshold);
      long[] lab = new long[a];
      long[] index = new long[a];
      float[] m = new float[a * 4];
      for (int i = 0; i < a; i++) {
        if (map[i] >= 0) {
          lab[i] = cls[(int) map[i]];
          index[i] = map[i];
          Arrays.fill(m, 4 * i, 4 * i + 4, 1f);
        }
      }
      NDArray mask = manager.create(m, new Shape(a, 4)).toDevice(anchors.getDevice(), false);
      NDArray off;
      if (cls.length == 0) {
        off = anchors.zerosLike();
      } else {
        NDArray matched = gt.get(manager.create(index).toDevice(anchors.getDevice(), false));
        off = TinySsdTargets.encode(anchors, matched).mul(mask);
      }
      labels.add(manager.create(lab).toDevice(anchors.getDevice(), false));
      offsets.add(off);
      masks.add(mask);
    }
    return new AnchorLabels(NDArrays.stack(labels), NDArrays.stack(offsets), NDArrays.stack(masks));
  }
}
