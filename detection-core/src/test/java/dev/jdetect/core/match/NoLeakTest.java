package dev.jdetect.core.match;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** Every match-package operation leaves only its results in the caller's manager. */
class NoLeakTest {

  @Test
  void onlyResultsStayAttached() {
    try (NDManager root = NDManager.newBaseManager();
        NDManager manager = root.newSubManager()) {
      NDArray iou =
          manager.create(new float[][] {{0.8f, 0.1f, 0.4f, 0.0f}, {0.2f, 0.6f, 0.35f, 0.1f}});
      NDArray loss = manager.create(new float[][] {{0.3f, 0.2f, 0.9f, 0.1f}, {1f, 2f, 3f, 4f}});
      NDArray positive =
          manager.create(
              new boolean[][] {{true, false, false, false}, {false, false, false, false}});
      NDArray labels = manager.create(new long[] {1, 0, -1, 0, 2, 0});
      int before = manager.getManagedArrays().size();

      Matcher.builder().build().match(iou);
      assertEquals(before + 1, manager.getManagedArrays().size(), "Matcher");
      Matcher.builder().optAllowLowQualityMatches(true).build().match(iou);
      assertEquals(before + 2, manager.getManagedArrays().size(), "Matcher low quality");
      SsdMatcher.builder().build().match(iou);
      assertEquals(before + 3, manager.getManagedArrays().size(), "SsdMatcher");
      HardNegativeMiner.builder().build().select(loss, positive);
      assertEquals(before + 4, manager.getManagedArrays().size(), "HardNegativeMiner");
      BalancedPositiveNegativeSampler.builder()
          .optBatchSizePerImage(4)
          .optSeed(1)
          .build()
          .sample(labels);
      assertEquals(before + 6, manager.getManagedArrays().size(), "sampler");
    }
  }
}
