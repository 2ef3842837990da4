package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.jdetect.models.Targets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Training behaviour: SGD reduces the loss; images without objects train. */
class FasterRcnnTrainingTest {

  /** Two 72x96 images, each a bright rectangle on a dark noisy background. */
  static NDList syntheticImages(NDManager manager) {
    float[][] rects = {{10, 12, 50, 44}, {40, 20, 90, 66}};
    NDList images = new NDList();
    java.util.Random random = new java.util.Random(3);
    for (float[] r : rects) {
      float[] data = new float[3 * 72 * 96];
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 72; y++) {
          for (int x = 0; x < 96; x++) {
            boolean inside = x >= r[0] && x < r[2] && y >= r[1] && y < r[3];
            float base = inside ? 0.8f - 0.2f * c : 0.1f;
            data[(c * 72 + y) * 96 + x] = base + 0.05f * random.nextFloat();
          }
        }
      }
      images.add(manager.create(data, new Shape(3, 72, 96)));
    }
    return images;
  }

  static NDList syntheticTargets(NDManager manager) {
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    boxes.add(manager.create(new float[] {10, 12, 50, 44}, new Shape(1, 4)));
    boxes.add(manager.create(new float[] {40, 20, 90, 66}, new Shape(1, 4)));
    labels.add(manager.create(new long[] {1}));
    labels.add(manager.create(new long[] {2}));
    return Targets.pad(manager, boxes, labels);
  }

  private static float step(
      FasterRcnn model, ParameterStore ps, NDList images, NDList targets, float lr) {
    float total;
    try (NDManager scope = images.get(0).getManager().newSubManager()) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images, targets, null);
        NDArray sum = losses.get(0).add(losses.get(1)).add(losses.get(2)).add(losses.get(3));
        sum.attach(scope);
        losses.attach(scope);
        total = sum.getFloat();
        gc.backward(sum);
      }
      for (Pair<String, Parameter> p : model.getParameters()) {
        NDArray w = p.getValue().getArray();
        NDArray g = w.getGradient();
        w.subi(g.mul(lr));
        g.subi(g);
      }
    }
    return total;
  }

  private static void requireGradients(FasterRcnn model) {
    for (Pair<String, Parameter> p : model.getParameters()) {
      p.getValue().getArray().setRequiresGradient(true);
    }
  }

  @Test
  void sgdStepsReduceTheTotalLoss() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(5);
      FasterRcnn model = RcnnFixtures.twoLevel(true);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 72, 96));
      requireGradients(model);
      ParameterStore ps = new ParameterStore(manager, false);
      NDList images = syntheticImages(manager);
      NDList targets = syntheticTargets(manager);
      float first = step(model, ps, images, targets, 0.02f);
      float last = first;
      for (int i = 0; i < 6; i++) {
        last = step(model, ps, images, targets, 0.02f);
        assertTrue(Float.isFinite(last), "loss at step " + (i + 1) + " is " + last);
      }
      final float start = first;
      final float end = last;
      assertTrue(end < start * 0.95f, () -> "loss went from " + start + " to " + end);
    }
  }

  @Test
  void imageWithoutObjectsTrains() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(6);
      FasterRcnn model = RcnnFixtures.roiPool(false);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 72, 96));
      requireGradients(model);
      ParameterStore ps = new ParameterStore(manager, false);
      NDList images = new NDList(syntheticImages(manager).get(0));
      NDList targets =
          Targets.pad(
              manager,
              List.of(manager.zeros(new Shape(0, 4))),
              List.of(manager.zeros(new Shape(0), DataType.INT64)));
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images, targets, null);
        assertEquals(0f, losses.get(1).getFloat(), "loss_box_reg without objects");
        assertEquals(0f, losses.get(3).getFloat(), "loss_rpn_box_reg without objects");
        float cls = losses.get(0).getFloat();
        float obj = losses.get(2).getFloat();
        assertTrue(cls > 0 && Float.isFinite(cls), "loss_classifier " + cls);
        assertTrue(obj > 0 && Float.isFinite(obj), "loss_objectness " + obj);
        NDArray sum = losses.get(0).add(losses.get(1)).add(losses.get(2)).add(losses.get(3));
        gc.backward(sum);
      }
      float gradNorm = 0;
      for (Pair<String, Parameter> p : model.getParameters()) {
        NDArray g = p.getValue().getArray().getGradient();
        float s = g.square().sum().getFloat();
        assertTrue(Float.isFinite(s), p.getKey() + " gradient is not finite");
        gradNorm += s;
      }
      assertTrue(gradNorm > 0, "background-only image gives a gradient");
    }
  }
}
