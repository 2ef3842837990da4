package dev.jdetect.models.dense;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.jdetect.models.Targets;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The small dense configurations train from scratch: a few SGD steps on two generated images lower
 * the total loss, and every loss stays finite.
 */
class SmallDenseTrainingTest {

  /** Object boxes {@code x1, y1, x2, y2} in 72x96 images, one per image, and their labels. */
  private static final float[][] BOXES = {{10, 12, 50, 44}, {40, 20, 90, 66}};

  private static final long[] LABELS = {1, 2};

  @ParameterizedTest
  @ValueSource(strings = {"retinanet-small", "fcos-small"})
  void sgdStepsLowerTheLossAndKeepItFinite(String name) {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(11);
      DenseDetector model =
          (DenseDetector) ModelZoo.builtin().create(ModelConfig.of(name, 2).withInputSize(96, 72));
      model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 72, 96));
      for (Pair<String, Parameter> p : model.getParameters()) {
        if (p.getValue().requiresGradient()) {
          p.getValue().getArray().setRequiresGradient(true);
        }
      }
      ParameterStore ps = new ParameterStore(m, false);
      NDList images = new NDList();
      List<NDArray> boxes = new ArrayList<>();
      List<NDArray> labels = new ArrayList<>();
      for (int i = 0; i < BOXES.length; i++) {
        float[] b = BOXES[i];
        NDArray image = m.randomUniform(0f, 0.1f, new Shape(3, 72, 96));
        String region =
            String.format(":, %d:%d, %d:%d", (int) b[1], (int) b[3], (int) b[0], (int) b[2]);
        image.set(new NDIndex(region), 0.8f - 0.3f * i);
        images.add(image);
        boxes.add(m.create(b, new Shape(1, 4)));
        labels.add(m.create(new long[] {LABELS[i]}));
      }
      NDList targets = Targets.pad(m, boxes, labels);
      float first = step(model, ps, images, targets, name, 0);
      float last = first;
      for (int i = 1; i < 8; i++) {
        last = step(model, ps, images, targets, name, i);
      }
      final float start = first;
      final float end = last;
      assertTrue(end < 0.8f * start, () -> name + ": loss went from " + start + " to " + end);
    }
  }

  /** One SGD step (lr 0.01) on the sum of the losses; returns that sum before the step. */
  private static float step(
      DenseDetector model, ParameterStore ps, NDList images, NDList targets, String name, int i) {
    float total;
    try (NDManager scope = images.get(0).getManager().newSubManager()) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images, targets, null);
        losses.attach(scope);
        NDArray sum = losses.get(0);
        for (int k = 1; k < losses.size(); k++) {
          sum = sum.add(losses.get(k));
        }
        for (int k = 0; k < losses.size(); k++) {
          float value = losses.get(k).getFloat();
          String what = name + " step " + i + " " + model.lossNames()[k] + " = " + value;
          assertTrue(Float.isFinite(value), what);
        }
        sum.attach(scope);
        total = sum.getFloat();
        gc.backward(sum);
      }
      for (Pair<String, Parameter> p : model.getParameters()) {
        NDArray w = p.getValue().getArray();
        if (w.hasGradient()) {
          NDArray g = w.getGradient();
          w.subi(g.mul(0.01f));
          g.subi(g);
        }
      }
    }
    return total;
  }
}
