package dev.jdetect.core.nd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScalarsTest {

  /** Frees unreachable direct buffers and reuses their memory, as a busy training step does. */
  static void churnDirectMemory() throws InterruptedException {
    for (int k = 0; k < 3; k++) {
      System.gc();
      Thread.sleep(10);
    }
    List<ByteBuffer> junk = new ArrayList<>();
    for (int k = 0; k < 20_000; k++) {
      ByteBuffer b = ByteBuffer.allocateDirect(16);
      b.putFloat(0, 777f).putFloat(4, 777f).putFloat(8, 777f).putFloat(12, 777f);
      junk.add(b);
    }
  }

  @Test
  void gradientsSurviveTheGarbageCollectorBetweenForwardAndBackward() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      for (int trial = 0; trial < 3; trial++) {
        NDArray x = m.create(new float[] {1f, 2f, 3f});
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray y;
          try (NDManager step = m.newSubManager()) {
            NDArray c = Scalars.constant(step, new float[] {5f, 6f, 7f}, new Shape(3));
            // d/dx = 2 * 0.5 * 2x + 3 * x^2 ... evaluated below term by term
            NDArray a = Scalars.div(Scalars.mul(x, 2.0), 0.5); // 4x
            NDArray b = Scalars.pow(x, 2.0); // x^2
            NDArray d = Scalars.maximum(x, 2.5).add(Scalars.minimum(x, 1.5)); // grad 0/1 + 1/0
            y = a.add(b).add(d).add(x.mul(c)).sum();
            y.attach(m);
          }
          churnDirectMemory();
          gc.backward(y);
        }
        // 4 + 2x + [x > 2.5] + [x < 1.5] + c
        float[] want = {4 + 2 + 0 + 1 + 5, 4 + 4 + 0 + 0 + 6, 4 + 6 + 1 + 0 + 7};
        assertArrayEquals(want, x.getGradient().toFloatArray(), 1e-6f);
      }
    }
  }

  @Test
  void scalarKeepsFloatingTypeAndDevice() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(new double[] {1, 2});
      NDArray s = Scalars.scalar(x, 0.25);
      assertArrayEquals(new double[] {0.25}, s.reshape(1).toDoubleArray());
      assertArrayEquals(new double[] {0.25, 0.5}, Scalars.div(x, 4).toDoubleArray());
    }
  }
}
