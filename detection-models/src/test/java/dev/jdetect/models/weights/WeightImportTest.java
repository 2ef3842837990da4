package dev.jdetect.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightImportTest {

  private static SequentialBlock convBn() {
    SequentialBlock seq = new SequentialBlock();
    seq.add(Conv2d.builder().setKernelShape(new Shape(1, 1)).setFilters(2).build());
    seq.add(BatchNorm.builder().build());
    seq.add(Activation.reluBlock());
    return seq;
  }

  private static Map<String, NDArray> full(NDManager m) {
    Map<String, NDArray> sd = new LinkedHashMap<>();
    sd.put("0.weight", m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3, 1, 1)));
    sd.put("0.bias", m.create(new float[] {0.5f, -0.5f}));
    sd.put("1.weight", m.create(new float[] {2, 3}));
    sd.put("1.bias", m.create(new float[] {7, 8}));
    sd.put("1.running_mean", m.create(new double[] {0.25, 0.75}));
    sd.put("1.running_var", m.create(new float[] {4, 9}));
    sd.put("1.num_batches_tracked", m.create(12L));
    return sd;
  }

  @Test
  void strictLoadCopiesEveryValueAndConvertsTypes() {
    try (NDManager m = NDManager.newBaseManager()) {
      SequentialBlock block = convBn();
      block.initialize(m, DataType.FLOAT32, new Shape(1, 3, 4, 4));
      ImportReport r = WeightImport.load(block, StateDict.of(full(m)));
      assertTrue(r.isComplete());
      assertEquals(6, r.loaded().size());
      Map<String, ai.djl.nn.Parameter> p = TorchvisionNames.of(block);
      assertArrayEquals(
          new float[] {1, 2, 3, 4, 5, 6}, p.get("0.weight").getArray().toFloatArray(), 0f);
      assertArrayEquals(new float[] {2, 3}, p.get("1.weight").getArray().toFloatArray(), 0f);
      assertArrayEquals(new float[] {7, 8}, p.get("1.bias").getArray().toFloatArray(), 0f);
      NDArray mean = p.get("1.running_mean").getArray();
      assertEquals(DataType.FLOAT32, mean.getDataType());
      assertArrayEquals(new float[] {0.25f, 0.75f}, mean.toFloatArray(), 0f);
      assertArrayEquals(new float[] {4, 9}, p.get("1.running_var").getArray().toFloatArray(), 0f);
    }
  }

  @Test
  void strictFailureListsEveryProblemAndCopiesNothing() {
    try (NDManager m = NDManager.newBaseManager()) {
      SequentialBlock block = convBn();
      block.initialize(m, DataType.FLOAT32, new Shape(1, 3, 4, 4));
      float[] before = TorchvisionNames.of(block).get("0.bias").getArray().toFloatArray();
      Map<String, NDArray> sd = full(m);
      sd.remove("1.running_var");
      sd.put("0.weight", m.zeros(new Shape(2, 3, 3, 3)));
      sd.put("head.extra", m.zeros(new Shape(1)));
      WeightImportException e =
          assertThrows(
              WeightImportException.class, () -> WeightImport.load(block, StateDict.of(sd)));
      assertEquals(List.of("1.running_var"), e.report().missing());
      assertEquals(List.of("head.extra"), e.report().unexpected());
      assertEquals(1, e.report().misshaped().size());
      assertTrue(e.report().misshaped().get(0).startsWith("0.weight"));
      for (String part : new String[] {"1.running_var", "head.extra", "0.weight", "(2, 3, 3, 3)"}) {
        assertTrue(e.getMessage().contains(part), e.getMessage());
      }
      assertArrayEquals(
          before, TorchvisionNames.of(block).get("0.bias").getArray().toFloatArray(), 0f);
    }
  }

  @Test
  void lenientPrefixAndExclude() {
    try (NDManager m = NDManager.newBaseManager()) {
      SequentialBlock block = convBn();
      block.initialize(m, DataType.FLOAT32, new Shape(1, 3, 4, 4));
      Map<String, NDArray> sd = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : full(m).entrySet()) {
        sd.put("backbone.body." + e.getKey(), e.getValue());
      }
      sd.put("head.fc.weight", m.zeros(new Shape(3)));
      sd.remove("backbone.body.1.bias");
      ImportReport r =
          WeightImport.builder()
              .optStrict(false)
              .optSourcePrefix("backbone.body.")
              .optExclude(name -> name.startsWith("1.running"))
              .build()
              .apply(block, StateDict.of(sd));
      assertFalse(r.isComplete());
      assertEquals(List.of("0.weight", "0.bias", "1.weight"), r.loaded());
      assertEquals(List.of("1.bias"), r.missing());
      assertTrue(r.unexpected().isEmpty());
      assertArrayEquals(
          new float[] {0.5f, -0.5f},
          TorchvisionNames.of(block).get("0.bias").getArray().toFloatArray(),
          0f);
      assertTrue(r.toString().contains("1 missing in file: 1.bias"), r.toString());
    }
  }

  @Test
  void uninitialisedBlockIsRejected() {
    try (NDManager m = NDManager.newBaseManager()) {
      SequentialBlock block = convBn();
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class, () -> WeightImport.load(block, StateDict.of(full(m))));
      assertTrue(e.getMessage().contains("initialize"), e.getMessage());
    }
  }
}
