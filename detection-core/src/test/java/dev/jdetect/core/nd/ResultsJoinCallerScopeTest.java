package dev.jdetect.core.nd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.match.HardNegativeMiner;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.core.match.SampleMasks;
import dev.jdetect.core.match.SsdMatcher;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.core.roi.MultiScaleRoiAlign;
import dev.jdetect.core.roi.RoiAlign;
import dev.jdetect.core.roi.RoiPool;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every op's result joins the caller's {@link NDScope}: closing that scope releases it, so callers
 * in a training step need no bookkeeping of their own.
 */
class ResultsJoinCallerScopeTest {

  @Test
  void closingTheCallersScopeReleasesEveryResult() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray gt = m.create(new float[][] {{0, 0, 10, 10}, {20, 20, 30, 34}});
      NDArray boxes = m.create(new float[][] {{1, 1, 11, 11}, {0, 0, 9, 9}, {21, 19, 30, 33}});
      NDArray scores = m.create(new float[] {0.9f, 0.8f, 0.7f});
      NDArray groups = m.create(new long[] {1, 1, 2});
      NDArray logits = m.create(new float[][] {{1, 2, 0}, {0, 1, 3}, {2, 0, 1}});
      NDArray labels = m.create(new long[] {1, 0, 2});
      NDArray features = m.randomUniform(0, 1, new Shape(1, 2, 8, 8));
      List<NDArray> results = new ArrayList<>();
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        NDArray iou = Boxes.iou(gt, boxes);
        results.add(iou);
        results.add(Boxes.clip(boxes, 16, 16));
        results.add(Boxes.removeSmall(boxes, 5));
        BoxCoder coder = BoxCoder.builder().build();
        results.add(coder.decode(coder.encode(boxes, boxes), boxes));
        results.add(Matcher.builder().optAllowLowQualityMatches(true).build().match(iou));
        results.add(SsdMatcher.builder().build().match(iou));
        SampleMasks masks =
            BalancedPositiveNegativeSampler.builder().optSeed(1).build().sample(labels);
        results.add(masks.positive());
        results.add(masks.negative());
        NDArray ce = DetectionLosses.crossEntropy(logits, labels);
        results.add(ce);
        results.add(DetectionLosses.smoothL1(boxes, boxes.add(1), 1f / 9));
        results.add(
            HardNegativeMiner.builder()
                .build()
                .select(ce.reshape(1, 3), labels.gt(0).reshape(1, 3)));
        results.add(Nms.nms(boxes, scores, 0.5));
        results.add(Nms.batchedNms(boxes, scores, groups, 0.5));
        List<NDArray> perImage = List.of(boxes);
        results.add(RoiAlign.builder().optOutputSize(2, 2).build().apply(features, perImage));
        results.add(RoiPool.builder().optOutputSize(2, 2).build().apply(features, perImage));
        results.add(
            MultiScaleRoiAlign.builder()
                .optOutputSize(2, 2)
                .build()
                .apply(List.of(features), perImage, List.of(new int[] {32, 32})));
        for (NDArray r : results) {
          assertFalse(r.isReleased());
        }
      }
      for (int i = 0; i < results.size(); i++) {
        assertTrue(results.get(i).isReleased(), "result " + i + " outlived the caller's scope");
      }
    }
  }
}
