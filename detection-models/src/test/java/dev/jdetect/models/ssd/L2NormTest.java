package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

class L2NormTest {

  @Test
  void normalisesOverChannelsAndScalesBy20() {
    try (NDManager m = NDManager.newBaseManager()) {
      L2Norm norm = L2Norm.builder().setChannels(2).build();
      norm.initialize(m, DataType.FLOAT32, new Shape(1, 2, 1, 2));
      // position 0: (3, 4) -> norm 5; position 1: (0, 0) -> stays 0 (eps guards the division)
      NDArray x = m.create(new float[] {3, 0, 4, 0}, new Shape(1, 2, 1, 2));
      NDArray y = norm.forward(new ParameterStore(m, false), new NDList(x), false).get(0);
      assertArrayEquals(new float[] {12, 0, 16, 0}, y.toFloatArray(), 1e-5f);
    }
  }

  @Test
  void rejectsWrongChannelCount() {
    try (NDManager m = NDManager.newBaseManager()) {
      L2Norm norm = L2Norm.builder().setChannels(3).build();
      norm.initialize(m, DataType.FLOAT32, new Shape(1, 3, 2, 2));
      NDArray x = m.ones(new Shape(1, 2, 2, 2));
      assertThrows(
          IllegalArgumentException.class,
          () -> norm.forward(new ParameterStore(m, false), new NDList(x), false));
    }
  }
}
