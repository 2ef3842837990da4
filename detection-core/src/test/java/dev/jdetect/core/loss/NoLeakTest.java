package dev.jdetect.core.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** Every loss leaves only its result in the caller's manager, also while recording gradients. */
class NoLeakTest {

  @Test
  void onlyResultsStayAttached() {
    try (NDManager root = NDManager.newBaseManager();
        NDManager manager = root.newSubManager()) {
      NDArray logits = manager.create(new float[][] {{0.5f, -1f, 2f}, {0f, 3f, -2f}});
      NDArray labels = manager.create(new long[] {2, -1});
      NDArray targets = manager.create(new float[][] {{1f, 0f, 0f}, {0f, 1f, 0f}});
      logits.setRequiresGradient(true);
      int before = manager.getManagedArrays().size();
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        DetectionLosses.smoothL1(logits, targets, 1f / 9);
        assertEquals(before + 1, manager.getManagedArrays().size(), "smoothL1");
        DetectionLosses.crossEntropy(logits, labels, -1);
        assertEquals(before + 2, manager.getManagedArrays().size(), "crossEntropy");
        DetectionLosses.binaryCrossEntropyWithLogits(logits, targets);
        assertEquals(before + 3, manager.getManagedArrays().size(), "bce");
        DetectionLosses.sigmoidFocal(logits, targets);
        assertEquals(before + 4, manager.getManagedArrays().size(), "sigmoidFocal");
        NDArray last = DetectionLosses.softmaxFocal(logits, labels, 0.25f, 2f, -1);
        assertEquals(before + 5, manager.getManagedArrays().size(), "softmaxFocal");
        // the graph survives the closed temporaries
        collector.backward(last.sum());
      }
      assertEquals(logits.getShape(), logits.getGradient().getShape());
    }
  }
}
