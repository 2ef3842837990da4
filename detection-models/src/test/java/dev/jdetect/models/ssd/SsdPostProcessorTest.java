package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.Detections;
import java.util.List;
import org.junit.jupiter.api.Test;

class SsdPostProcessorTest {

  // probabilities per anchor over (background, class 1, class 2); logits = log(p)
  private static final double[][] PROBS = {{0.25, 0.7, 0.05}, {0.395, 0.6, 0.005}};

  private static NDArray logits(NDManager m) {
    float[] v = new float[6];
    for (int a = 0; a < 2; a++) {
      for (int c = 0; c < 3; c++) {
        v[a * 3 + c] = (float) Math.log(PROBS[a][c]);
      }
    }
    return m.create(v, new Shape(1, 2, 3));
  }

  @Test
  void thresholdNmsPerClassAndRescaling() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray anchors = m.create(new float[][] {{0, 0, 10, 10}, {1, 0, 11, 10}});
      NDArray deltas = m.zeros(new Shape(1, 2, 4));
      // input 20x20 (h x w), original 40 high and 20 wide: y doubles
      List<Detections> dets =
          SsdPostProcessor.builder().build().process(logits(m), deltas, anchors, 20, 20, 40, 20);
      assertEquals(1, dets.size());
      Detections d = dets.get(0);
      // class 1: anchor 1 (0.6) overlaps anchor 0 (0.7) with IoU 0.82 > 0.45 -> suppressed;
      // class 2: anchor 1 (0.005) is under the 0.01 threshold; anchor 0 (0.05) survives
      assertArrayEquals(new long[] {1, 2}, d.labels().toLongArray());
      assertArrayEquals(new float[] {0.7f, 0.05f}, d.scores().toFloatArray(), 1e-6f);
      assertArrayEquals(new float[] {0, 0, 10, 20, 0, 0, 10, 20}, d.boxes().toFloatArray(), 1e-5f);
    }
  }

  @Test
  void limitsAndClipping() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray anchors = m.create(new float[][] {{0, 0, 10, 10}, {1, 0, 11, 10}});
      // anchor 1 shifted right by one width (dx = 10 * 1): clipped at the 20-pixel border
      NDArray deltas = m.create(new float[] {0, 0, 0, 0, 10, 0, 0, 0}, new Shape(1, 2, 4));
      List<Detections> one =
          SsdPostProcessor.builder()
              .optDetectionsPerImage(1)
              .build()
              .process(logits(m), deltas, anchors, 20, 20, 20, 20);
      assertArrayEquals(new long[] {1}, one.get(0).labels().toLongArray());
      List<Detections> all =
          SsdPostProcessor.builder()
              .optScoreThreshold(0.001f)
              .build()
              .process(logits(m), deltas, anchors, 20, 20, 20, 20);
      // no overlap any more: all four (anchor, class) pairs survive, sorted by score
      assertArrayEquals(
          new float[] {0.7f, 0.6f, 0.05f, 0.005f}, all.get(0).scores().toFloatArray(), 1e-6f);
      assertArrayEquals(new long[] {1, 1, 2, 2}, all.get(0).labels().toLongArray());
      assertArrayEquals(
          new float[] {11, 0, 20, 10}, all.get(0).boxes().get(1).toFloatArray(), 1e-5f);
      List<Detections> top1 =
          SsdPostProcessor.builder()
              .optScoreThreshold(0.001f)
              .optTopK(1)
              .build()
              .process(logits(m), deltas, anchors, 20, 20, 20, 20);
      assertArrayEquals(new float[] {0.7f, 0.05f}, top1.get(0).scores().toFloatArray(), 1e-6f);
    }
  }
}
