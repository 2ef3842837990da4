package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.List;

/**
 * Dive into Deep Learning's {@code multibox_detection}, TinySSD's inference: softmax, each anchor's
 * best object class, D2L's decoding ({@link TinySsdTargets#decode}), one class-agnostic NMS, and
 * the scores below the threshold dropped; boxes are then clipped to the input and, optionally,
 * capped to a number per image. Instances are immutable.
 */
public final class D2lPostProcessor implements SsdDecoder {

  private final float nmsThreshold;
  private final float scoreThreshold;
  private final int maxDetections;

  /**
   * Creates the post-processor.
   *
   * @param nmsThreshold the class-agnostic NMS IoU (D2L: 0.5)
   * @param scoreThreshold the lowest score kept (D2L: 0.009999999)
   * @param maxDetections the most detections per image, or -1 for no cap (D2L)
   */
  public D2lPostProcessor(float nmsThreshold, float scoreThreshold, int maxDetections) {
    this.nmsThreshold = nmsThreshold;
    this.scoreThreshold = scoreThreshold;
    this.maxDetections = maxDetections;
  }

  @Override
  public List<Detections> process(
      NDArray clsLogits,
      NDArray bboxRegression,
      NDArray anchors,
      int inputHeight,
      int inputWidth,
      int originalHeight,
      int originalWidth) {
    NDManager manager = clsLogits.getManager();
    List<Detections> out = new ArrayList<>();
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray probs = clsLogits.softmax(2);
      long n = probs.getShape().get(0);
      for (int i = 0; i < n; i++) {
        Detections d =
            detect(probs.get(i), bboxRegression.get(i), anchors, inputHeight, inputWidth);
        NDArray boxes = d.boxes();
        if (originalHeight != inputHeight || originalWidth != inputWidth) {
          boxes =
              FixedSizeTransform.scaleBoxes(
                  boxes, inputHeight, inputWidth, originalHeight, originalWidth);
        }
        NDScope.unregister(boxes, d.scores(), d.labels());
        boxes.attach(manager);
        d.scores().attach(manager);
        d.labels().attach(manager);
        out.add(new Detections(boxes, d.scores(), d.labels()));
      }
    }
    return out;
  }

  /** multibox_detection for one image, in input pixels. */
  private Detections detect(
      NDArray probs, NDArray offsets, NDArray anchors, int height, int width) {
    NDArray objects = probs.get(":, 1:");
    NDArray conf = objects.max(new int[] {1});
    NDArray classId = objects.argMax(1);
    NDArray boxes = TinySsdTargets.decode(anchors, offsets);
    NDArray keep = Nms.nms(boxes, conf, nmsThreshold);
    NDArray keptConf = conf.get(keep);
    // D2L sets class -1 where conf < pos_threshold; those are dropped here.
    NDArray pass = keptConf.gte(scoreThreshold);
    long count = pass.toType(DataType.INT64, false).sum().getLong();
    if (maxDetections >= 0) {
      count = Math.min(count, maxDetections);
    }
    // NMS output is sorted by score, so the passing ones form a prefix.
    NDArray sel = keep.get(":" + count);
    NDArray outBoxes = Boxes.clip(boxes.get(sel), height, width);
    NDArray outScores = conf.get(sel);
    NDArray outLabels = classId.get(sel).toType(DataType.INT64, false).add(1);
    return new Detections(outBoxes, outScores, outLabels);
  }
}
