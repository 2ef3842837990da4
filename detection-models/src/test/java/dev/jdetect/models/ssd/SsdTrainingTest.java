package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.jdetect.models.Targets;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.weights.WeightImport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A few SGD steps on a tiny batch (one image without objects) lower the MultiBox loss. */
class SsdTrainingTest {

  @Test
  void sgdStepsReduceLossAndEveryHeadGetsGradient() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = SmallSsd.npz(manager, "/fixtures/ssd/ssd_small_io.npz");
      NDArray images = SmallSsd.images(io);
      Ssd model = SmallSsd.model();
      model.initialize(manager, DataType.FLOAT32, images.getShape());
      WeightImport.load(model, SmallSsd.weights(manager));
      List<NDArray> boxes = new ArrayList<>();
      List<NDArray> labels = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        boxes.add(io.get("boxes_" + i));
        labels.add(io.get("labels_" + i));
      }
      // image 2: objects at every scale, so every source has positives (image 1 has none)
      boxes.add(
          manager.create(
              new float[][] {{10, 10, 13, 13}, {30, 10, 36, 17}, {20, 8, 38, 30}, {0, 0, 56, 40}}));
      labels.add(manager.create(new long[] {1, 2, 3, 1}));
      NDList targets = Targets.pad(manager, boxes, labels);
      Map<String, Parameter> params = TorchvisionNames.of(model);
      Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(1e-3f)).build();
      ParameterStore ps = new ParameterStore(manager, false);
      float first = Float.NaN;
      float last = Float.NaN;
      for (int step = 0; step < 5; step++) {
        try (NDManager scope = manager.newSubManager()) {
          float total;
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDList losses = model.forward(ps, new NDList(images), targets, null);
            losses.attach(scope);
            NDArray sum = losses.get(0).add(losses.get(1));
            total = sum.getFloat();
            gc.backward(sum);
          }
          if (step == 0) {
            first = total;
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
              String name = e.getKey();
              if (name.startsWith("head.")
                  || name.equals("backbone.scale_weight")
                  || name.equals("backbone.features.0.weight")
                  || name.equals("backbone.extra.4.2.weight")) {
                float g = e.getValue().getArray().getGradient().abs().sum().getFloat();
                assertTrue(g > 0, "no gradient reaches " + name);
              }
            }
          }
          last = total;
          for (Parameter p : params.values()) {
            NDArray w = p.getArray();
            NDArray grad = w.getGradient();
            sgd.update(p.getId(), w, grad);
            grad.subi(grad);
          }
        }
      }
      assertTrue(Float.isFinite(first) && Float.isFinite(last));
      assertTrue(last < first * 0.9f, "loss went from " + first + " to " + last);
      assertEquals(12 * 2, countHeadParams(params));
    }
  }

  private static int countHeadParams(Map<String, Parameter> params) {
    int n = 0;
    for (String name : params.keySet()) {
      if (name.startsWith("head.")) {
        n++;
      }
    }
    return n;
  }
}
