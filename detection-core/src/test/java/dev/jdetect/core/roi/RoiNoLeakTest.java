package dev.jdetect.core.roi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every RoI op leaves only its result in the caller's manager. */
class RoiNoLeakTest {

  @Test
  void onlyResultsStayAttached() {
    try (NDManager root = NDManager.newBaseManager();
        NDManager manager = root.newSubManager()) {
      NDArray features = manager.randomNormal(new Shape(1, 2, 16, 16));
      NDArray coarse = manager.randomNormal(new Shape(1, 2, 8, 8));
      NDArray rois = manager.create(new float[] {0, 1, 1, 9, 9, 0, 2, 3, 14, 12}, new Shape(2, 5));
      List<NDArray> boxes =
          Arrays.asList(manager.create(new float[] {1, 1, 9, 9, 2, 3, 14, 12}, new Shape(2, 4)));
      List<int[]> sizes = List.<int[]>of(new int[] {16, 16});
      int expected = manager.getManagedArrays().size();
      for (RoiAlign.Backend backend : RoiAlign.Backend.values()) {
        RoiAlign align = RoiAlign.builder().optBackend(backend).optSamplingRatio(2).build();
        align.apply(features, rois);
        assertEquals(++expected, manager.getManagedArrays().size(), "RoiAlign " + backend);
        align.apply(features, boxes);
        assertEquals(++expected, manager.getManagedArrays().size(), "RoiAlign lists " + backend);
      }
      RoiPool.builder().build().apply(features, rois);
      assertEquals(++expected, manager.getManagedArrays().size(), "RoiPool");
      MultiScaleRoiAlign msra = MultiScaleRoiAlign.builder().optCanonicalScale(8).build();
      msra.apply(Arrays.asList(features, coarse), boxes, sizes);
      assertEquals(++expected, manager.getManagedArrays().size(), "MultiScaleRoiAlign");
      msra.levels(boxes, Arrays.asList(features, coarse), sizes);
      assertEquals(++expected, manager.getManagedArrays().size(), "levels");
      Rois.fromBoxes(boxes);
      assertEquals(++expected, manager.getManagedArrays().size(), "Rois.fromBoxes");
    }
  }
}
