package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.Detections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed post-processing of the box head's predictions. */
class RoiPostProcessorTest {

  /** p1 overlaps p0 with IoU 90/110; p2 crosses the 25 x 25 image. */
  private static final float[][] PROPOSALS = {{0, 0, 10, 10}, {1, 0, 11, 10}, {20, 20, 30, 30}};

  /**
   * Logits whose softmax is (0.1, 0.8, 0.1), (0.1, 0.6, 0.3) and (0.4, 0.1, 0.5): background, class
   * 1, class 2.
   */
  private static NDArray logits(NDManager m) {
    double[][] p = {{1, 8, 1}, {1, 6, 3}, {4, 1, 5}};
    float[] out = new float[9];
    for (int i = 0; i < 3; i++) {
      for (int c = 0; c < 3; c++) {
        out[3 * i + c] = (float) Math.log(p[i][c]);
      }
    }
    return m.create(out, new Shape(3, 3));
  }

  @Test
  void decodesClipsThresholdsAndSuppressesPerClass() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray proposals = m.create(PROPOSALS);
      NDArray zeroDeltas = m.zeros(new Shape(3, 12));
      List<int[]> size = List.of(new int[] {25, 25});
      // class 1: p0 0.8 suppresses p1 0.6, p2 0.1 stays; class 2: p2 0.5, p1 0.3, p0 0.1 is
      // suppressed by p1
      Detections all =
          RoiPostProcessor.builder()
              .build()
              .process(logits(m), zeroDeltas, List.of(proposals), size)
              .get(0);
      assertArrayEquals(new long[] {1, 2, 2, 1}, all.labels().toLongArray());
      assertArrayEquals(new float[] {0.8f, 0.5f, 0.3f, 0.1f}, all.scores().toFloatArray(), 1e-6f);
      assertArrayEquals(
          new float[] {0, 0, 10, 10, 20, 20, 25, 25, 1, 0, 11, 10, 20, 20, 25, 25},
          all.boxes().toFloatArray());

      Detections best =
          RoiPostProcessor.builder()
              .optScoreThreshold(0.2f)
              .optDetectionsPerImage(2)
              .build()
              .process(logits(m), zeroDeltas, List.of(proposals), size)
              .get(0);
      assertArrayEquals(new long[] {1, 2}, best.labels().toLongArray());
    }
  }

  @Test
  void rowsAreSplitByTheProposalCountOfEveryImage() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray first = m.create(new float[][] {PROPOSALS[0], PROPOSALS[1]});
      NDArray second = m.create(new float[][] {PROPOSALS[2]});
      List<Detections> d =
          RoiPostProcessor.builder()
              .build()
              .process(
                  logits(m),
                  m.zeros(new Shape(3, 12)),
                  List.of(first, second),
                  List.of(new int[] {25, 25}, new int[] {40, 40}));
      assertEquals(2, d.size());
      // image 0: class 1 p0 (p1 suppressed), class 2 p1 (p0 suppressed); image 1: its only box,
      // once per class
      assertArrayEquals(new float[] {0.8f, 0.3f}, d.get(0).scores().toFloatArray(), 1e-6f);
      assertArrayEquals(new long[] {2, 1}, d.get(1).labels().toLongArray());
      assertArrayEquals(
          new float[] {20, 20, 30, 30, 20, 20, 30, 30}, d.get(1).boxes().toFloatArray());
    }
  }

  @Test
  void predictionsThatDoNotFitTheProposalsAreRejected() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray proposals = m.create(PROPOSALS);
      RoiPostProcessor post = RoiPostProcessor.builder().build();
      List<int[]> size = List.of(new int[] {25, 25});
      assertThrows(
          IllegalArgumentException.class,
          () -> post.process(logits(m), m.zeros(new Shape(3, 8)), List.of(proposals), size));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              post.process(
                  logits(m), m.zeros(new Shape(3, 12)), List.of(proposals.get(":2")), size));
    }
  }
}
