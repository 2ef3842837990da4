package dev.jdetect.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** Checks that the offline PyTorch engine loads and computes. */
class EngineSmokeTest {

  @Test
  void pyTorchEngineRunsOffline() {
    assertEquals("PyTorch", Engine.getInstance().getEngineName());
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray a = manager.create(new float[] {1f, 2f, 3f});
      assertArrayEquals(new float[] {2f, 4f, 6f}, a.mul(2).toFloatArray());
    }
  }
}
