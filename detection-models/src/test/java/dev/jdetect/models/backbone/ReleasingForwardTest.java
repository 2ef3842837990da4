package dev.jdetect.models.backbone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.jdetect.models.ssd.TinySsdBackbone;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backbones' releasing forward ({@link SequentialForward}) computes exactly what DJL's {@code
 * SequentialBlock.forward} does, keeps the caller's input open, leaves only the output behind, and
 * leaves the gradients unchanged.
 */
class ReleasingForwardTest {

  private static final Shape INPUT = new Shape(2, 3, 64, 64);

  @Test
  void sameOutputFewerLiveArraysInputKept() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(5);
      MobileNetV2 net = MobileNetV2.builder().optWidthMult(0.5f).build();
      net.initialize(manager, DataType.FLOAT32, INPUT);
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray x = manager.randomUniform(0, 1, INPUT);
      float[] plain;
      int plainLive;
      try (NDManager step = manager.newSubManager()) {
        NDArray in = x.duplicate();
        in.attach(step);
        plain = net.getFeatures().forward(ps, new NDList(in), false).head().toFloatArray();
        plainLive = activations(step);
      }
      try (NDManager step = manager.newSubManager()) {
        NDArray in = x.duplicate();
        in.attach(step);
        NDArray out = net.forward(ps, new NDList(in), false).head();
        assertFalse(in.isReleased(), "the caller's input stays open");
        float[] released = out.toFloatArray();
        assertEquals(plain.length, released.length);
        for (int i = 0; i < plain.length; i++) {
          assertEquals(plain[i], released[i], 0f, "output element " + i);
        }
        // only the input and the output hold activations (DJL's clip leaves 0-d bounds behind)
        int live = activations(step);
        assertEquals(2, live, "activation arrays left after the releasing forward");
        assertTrue(plainLive > 20, "activation arrays left after DJL's forward: " + plainLive);
      }
    }
  }

  @Test
  void tinySsdBackboneLeavesOnlyItsSourcesInATrainingForward() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(7);
      TinySsdBackbone net = new TinySsdBackbone(new int[] {8, 16, 16}, 16);
      net.initialize(manager, DataType.FLOAT32, INPUT);
      ParameterStore ps = new ParameterStore(manager, false);
      try (NDManager step = manager.newSubManager();
          GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray in = manager.randomUniform(0, 1, INPUT);
        in.attach(step);
        NDList sources = net.forward(ps, new NDList(in), true);
        assertEquals(5, sources.size());
        // the input and the five sources; DJL's forward left every conv, norm, ReLU and pool
        // output of the four down-sampling stages (5 blocks x 6 arrays) besides
        assertEquals(6, activations(step), "activation arrays left after the training forward");
        NDArray loss = sources.get(0).sum().add(sources.get(4).sum());
        gc.backward(loss);
      }
    }
  }

  @Test
  void gradientsEqualThoseOfThePlainForward() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(6);
      MobileNetV2 net = MobileNetV2.builder().optWidthMult(0.5f).build();
      net.initialize(manager, DataType.FLOAT32, INPUT);
      List<NDArray> weights = new ArrayList<>();
      for (Pair<String, Parameter> p : net.getParameters()) {
        if (p.getValue().requiresGradient()) {
          p.getValue().getArray().setRequiresGradient(true);
          weights.add(p.getValue().getArray());
        }
      }
      NDArray x = manager.randomUniform(0, 1, INPUT);
      List<float[]> viaDjl = gradients(manager, net, x, false);
      List<float[]> viaReleasing = gradients(manager, net, x, true);
      for (int i = 0; i < weights.size(); i++) {
        float[] a = viaDjl.get(i);
        float[] b = viaReleasing.get(i);
        for (int j = 0; j < a.length; j++) {
          assertEquals(a[j], b[j], 1e-6f * Math.max(1f, Math.abs(a[j])), "parameter " + i);
        }
      }
    }
  }

  private static int activations(NDManager manager) {
    int n = 0;
    for (NDArray a : manager.getManagedArrays()) {
      if (a.getShape().dimension() > 0) {
        n++;
      }
    }
    return n;
  }

  private static List<float[]> gradients(
      NDManager manager, MobileNetV2 net, NDArray x, boolean releasing) {
    ParameterStore ps = new ParameterStore(manager, false);
    List<float[]> out = new ArrayList<>();
    try (NDManager step = manager.newSubManager()) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.zeroGradients();
        NDList in = new NDList(x);
        NDArray y =
            releasing
                ? net.forward(ps, in, true).head()
                : net.getFeatures().forward(ps, in, true).head();
        NDArray loss = y.mul(y).sum();
        loss.attach(step);
        gc.backward(loss);
      }
      for (Pair<String, Parameter> p : net.getParameters()) {
        if (p.getValue().requiresGradient()) {
          out.add(p.getValue().getArray().getGradient().toFloatArray());
        }
      }
    }
    return out;
  }
}
