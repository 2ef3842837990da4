package dev.jdetect.models.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TorchvisionNamesTest {

  @Test
  void sequentialIndicesAndBatchNormNames() {
    SequentialBlock seq = new SequentialBlock();
    seq.add(Conv2d.builder().setKernelShape(new Shape(3, 3)).setFilters(4).build());
    seq.add(BatchNorm.builder().build());
    seq.add(Activation.reluBlock());
    SequentialBlock inner = new SequentialBlock();
    inner.add(Activation.reluBlock());
    inner.add(
        Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(2).optBias(false).build());
    seq.add(inner);
    try (NDManager m = NDManager.newBaseManager()) {
      seq.initialize(m, DataType.FLOAT32, new Shape(1, 3, 8, 8));
      Map<String, Parameter> names = TorchvisionNames.of(seq);
      assertEquals(
          List.of(
              "0.weight",
              "0.bias",
              "1.weight",
              "1.bias",
              "1.running_mean",
              "1.running_var",
              "3.1.weight"),
          List.copyOf(names.keySet()));
      assertEquals(new Shape(2, 4, 1, 1), names.get("3.1.weight").getArray().getShape());
      assertSame(
          seq.getChildren().get(1).getValue().getDirectParameters().get("runningVar"),
          names.get("1.running_var"));
    }
  }

  @Test
  void parameterNameMapping() {
    assertEquals("weight", TorchvisionNames.parameterName("gamma"));
    assertEquals("bias", TorchvisionNames.parameterName("beta"));
    assertEquals("running_mean", TorchvisionNames.parameterName("runningMean"));
    assertEquals("running_var", TorchvisionNames.parameterName("runningVar"));
    assertEquals("weight", TorchvisionNames.parameterName("weight"));
  }
}
