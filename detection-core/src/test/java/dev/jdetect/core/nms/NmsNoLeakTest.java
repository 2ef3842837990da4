package dev.jdetect.core.nms;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nms.Nms.Backend;
import org.junit.jupiter.api.Test;

/** Both NMS backends leave only their result in the caller's manager. */
class NmsNoLeakTest {

  @Test
  void onlyResultsStayAttached() {
    try (NDManager root = NDManager.newBaseManager();
        NDManager manager = root.newSubManager()) {
      NDArray boxes =
          manager.create(new float[] {0, 0, 4, 4, 1, 1, 5, 5, 9, 9, 12, 12}, new Shape(3, 4));
      NDArray scores = manager.create(new float[] {0.5f, 0.9f, 0.1f});
      NDArray groups = manager.create(new int[] {0, 0, 1});
      int expected = manager.getManagedArrays().size();
      for (Backend backend : Backend.values()) {
        Nms.nms(boxes, scores, 0.1, 10, backend);
        assertEquals(++expected, manager.getManagedArrays().size(), "nms " + backend);
        Nms.batchedNms(boxes, scores, groups, 0.1, 10, backend);
        assertEquals(++expected, manager.getManagedArrays().size(), "batchedNms " + backend);
      }
    }
  }
}
