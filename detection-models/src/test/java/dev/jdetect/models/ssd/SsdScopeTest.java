package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Targets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Forward passes leave only their results on the caller's manager. */
class SsdScopeTest {

  @Test
  void inferenceAndTrainingKeepOnlyResults() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = SmallSsd.model();
      model.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 40, 56));
      ParameterStore ps = new ParameterStore(manager, false);
      // warm the default-box cache, which lives on the parameter store's manager
      try (NDManager warm = manager.newSubManager()) {
        model.forward(ps, new NDList(warm.randomUniform(0, 1, new Shape(2, 3, 40, 56))), false);
      }
      try (NDManager sub = manager.newSubManager()) {
        NDArray images = sub.randomUniform(0, 1, new Shape(2, 3, 40, 56));
        int before = sub.getManagedArrays().size();
        NDList out = model.forward(ps, new NDList(images), false);
        assertEquals(6, out.size());
        assertEquals(before + 6, sub.getManagedArrays().size());

        NDList targets =
            Targets.pad(
                sub,
                List.of(sub.create(new float[][] {{2, 3, 20, 25}}), sub.zeros(new Shape(0, 4))),
                List.of(sub.create(new long[] {1}), sub.zeros(new Shape(0), DataType.INT64)));
        int beforeTrain = sub.getManagedArrays().size();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDList losses = model.forward(ps, new NDList(images), targets, null);
          assertEquals(beforeTrain + 2, sub.getManagedArrays().size());
          gc.backward(losses.get(0).add(losses.get(1)));
        }
      }
    }
  }
}
