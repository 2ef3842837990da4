package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.coder.BoxCoder;
import dev.jdetect.models.ImageTargets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed RoI sampling with every proposal kept. */
class RoiSamplerTest {

  @Test
  void appendsGroundTruthLabelsByIouAndEncodesThePositives() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray proposals0 =
          m.create(new float[][] {{0, 0, 10, 10}, {0, 0, 10, 8}, {20, 20, 30, 30}});
      NDArray gt0 = m.create(new float[][] {{0, 0, 10, 10}});
      NDArray proposals1 = m.create(new float[][] {{1, 1, 5, 5}});
      ImageTargets none =
          new ImageTargets(m.zeros(new Shape(0, 4)), m.zeros(new Shape(0), DataType.INT64));
      RoiSampler sampler =
          RoiSampler.builder().optSampler(RcnnFixtures.sampler(512, 0.25, true)).build();
      RoiSampler.Samples s =
          sampler.sample(
              List.of(proposals0, proposals1),
              List.of(new ImageTargets(gt0, m.create(new long[] {2})), none));
      // image 0: IoU 1, 0.8, 0 and the appended ground truth 1; image 1 has no objects
      assertEquals(2, s.boxes().size());
      assertEquals(new Shape(4, 4), s.boxes().get(0).getShape());
      assertArrayEquals(new float[] {0, 0, 10, 10}, s.boxes().get(0).get(3).toFloatArray());
      assertArrayEquals(new long[] {2, 2, 0, 2, 0}, s.labels().toLongArray());
      assertArrayEquals(new long[] {0, 1, 3}, s.positiveRows().toLongArray());
      // (0, 0, 10, 8) against (0, 0, 10, 10) with weights (10, 10, 5, 5): dy 10 * 1 / 8, dh 5 ln
      // 1.25
      assertArrayEquals(
          new float[] {0, 0, 0, 0, 0, 1.25f, 0, (float) (5 * Math.log(1.25)), 0, 0, 0, 0},
          s.regressionTargets().toFloatArray(),
          1e-5f);
    }
  }

  @Test
  void roiHeadsNeedTheSameBoxCoderForSamplingAndPostProcessing() {
    BoxCoder other = BoxCoder.builder().optWeights(1f, 1f, 1f, 1f).build();
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RoiHeads.builder()
                .setPooler(RoiPoolers.roiPool(7, 1f / 16))
                .setNumClasses(2)
                .optSampler(RoiSampler.builder().optBoxCoder(other).build())
                .build());
  }
}
