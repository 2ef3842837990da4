package dev.jdetect.core.nd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AutogradTest {

  @Test
  void opOutputsInsideACollectorMayNeedAGradient() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray leaf = manager.ones(new Shape(3));
      NDArray constant = manager.ones(new Shape(3));
      assertFalse(Autograd.mayNeedGradient(constant), "plain array outside a collector");
      leaf.setRequiresGradient(true);
      assertTrue(Autograd.mayNeedGradient(leaf), "leaf that requires a gradient");
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = leaf.add(1f);
        // the DJL quirk this class works around
        assertFalse(out.hasGradient(), "DJL's hasGradient() on an op's output");
        assertTrue(Autograd.mayNeedGradient(out), "op output inside a collector");
        gc.backward(out.sum());
      }
      NDArray after = leaf.add(1f);
      assertFalse(Autograd.mayNeedGradient(after), "op output after the collector closed");
    }
  }

  @Test
  void noGradientSwitchesRecordingOffAndRestoresIt() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray x = manager.ones(new Shape(2));
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        assertTrue(Autograd.mayNeedGradient(x));
        try (Autograd.NoGradient off = Autograd.noGradient()) {
          assertFalse(Autograd.mayNeedGradient(x), "inside noGradient()");
        }
        assertTrue(Autograd.mayNeedGradient(x), "restored after noGradient()");
      }
      // PyTorch records by default on a thread DJL never used; noGradient() stops that there too
      AtomicBoolean fresh = new AtomicBoolean();
      AtomicBoolean inside = new AtomicBoolean(true);
      AtomicBoolean restored = new AtomicBoolean();
      Thread t =
          new Thread(
              () -> {
                fresh.set(Autograd.mayNeedGradient(x));
                try (Autograd.NoGradient off = Autograd.noGradient()) {
                  inside.set(Autograd.mayNeedGradient(x));
                }
                restored.set(Autograd.mayNeedGradient(x));
              });
      t.start();
      t.join();
      assertTrue(fresh.get(), "a fresh native thread records by default");
      assertFalse(inside.get(), "noGradient() on that thread");
      assertTrue(restored.get(), "the thread's mode is restored");
    }
  }
}
