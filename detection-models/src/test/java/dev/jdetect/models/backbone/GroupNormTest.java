package dev.jdetect.models.backbone;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.testkit.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** GroupNorm equals PyTorch's nn.GroupNorm (gen_models_dense.py, group_norm.npz). */
class GroupNormTest {

  @Test
  void forwardAndGradientsMatchPyTorch() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/dense/group_norm.npz");
      GroupNorm norm = new GroupNorm(4);
      norm.initialize(manager, DataType.FLOAT32, new Shape(2, 16, 5, 7));
      Map<String, Parameter> params = TorchvisionNames.of(norm);
      assertEquals(2, params.size());
      // fresh: scale 1, shift 0, as PyTorch
      assertEquals(16f, params.get("weight").getArray().sum().getFloat());
      assertEquals(0f, params.get("bias").getArray().abs().sum().getFloat());
      params.get("weight").getArray().set(Fixtures.get(f, "scale").toFloatArray());
      params.get("bias").getArray().set(Fixtures.get(f, "shift").toFloatArray());
      for (Parameter p : params.values()) {
        p.getArray().setRequiresGradient(true);
      }
      NDArray x = Fixtures.get(f, "x").duplicate();
      x.setRequiresGradient(true);
      ParameterStore ps = new ParameterStore(manager, false);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = norm.forward(ps, new NDList(x), true).singletonOrThrow();
        assertClose(Fixtures.get(f, "out"), out, 1e-5f, "output");
        gc.backward(out.mul(Fixtures.get(f, "weight")).sum());
      }
      assertClose(Fixtures.get(f, "grad_x"), x.getGradient(), 1e-5f, "input gradient");
      assertClose(
          Fixtures.get(f, "grad_scale"),
          params.get("weight").getArray().getGradient(),
          1e-4f,
          "scale gradient");
      assertClose(
          Fixtures.get(f, "grad_shift"),
          params.get("bias").getArray().getGradient(),
          1e-4f,
          "shift gradient");
    }
  }

  @Test
  void groupsMustDivideChannels() {
    try (NDManager manager = NDManager.newBaseManager()) {
      GroupNorm norm = new GroupNorm(32);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> norm.initialize(manager, DataType.FLOAT32, new Shape(1, 48, 4, 4)));
      assertEquals(true, e.getMessage().contains("48"));
      assertThrows(IllegalArgumentException.class, () -> new GroupNorm(0));
    }
  }
}
