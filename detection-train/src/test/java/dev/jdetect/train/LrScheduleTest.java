package dev.jdetect.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

  @Test
  void linearWarmupRisesFromStartFactor() {
    LrSchedule s = LrSchedule.builder().setBaseLr(0.1).optWarmup(10, 0.001).build();
    assertEquals(0.0001, s.learningRate(0, 100), 1e-12);
    assertEquals(0.1 * (0.001 * 0.5 + 0.5), s.learningRate(5, 100), 1e-12);
    assertEquals(0.1, s.learningRate(10, 100), 1e-12);
    assertEquals(0.1, s.learningRate(1000, 100), 1e-12);
  }

  @Test
  void multiStepDecaysAtMilestoneEpochs() {
    LrSchedule s = LrSchedule.builder().setBaseLr(0.1).optMultiStep(0.1, 2, 4).build();
    assertEquals(0.1, s.learningRate(9, 5), 1e-12);
    assertEquals(0.01, s.learningRate(10, 5), 1e-12);
    assertEquals(0.01, s.learningRate(19, 5), 1e-12);
    assertEquals(0.001, s.learningRate(20, 5), 1e-12);
  }

  @Test
  void warmupMultipliesTheDecayedRate() {
    LrSchedule s = LrSchedule.builder().setBaseLr(1).optWarmup(4, 0.5).optMultiStep(0.5, 1).build();
    // epoch 1 starts at step 2, still inside the warm-up: 0.5 * (0.5 * 0.25 + 0.75)
    assertEquals(0.5 * (0.5 * 0.25 + 0.75), s.learningRate(3, 2), 1e-12);
  }

  @Test
  void cosineAnnealsAfterWarmup() {
    LrSchedule s = LrSchedule.builder().setBaseLr(0.1).optCosine(4, 0.0).build();
    assertEquals(0.1, s.learningRate(0, 10), 1e-12);
    assertEquals(0.05, s.learningRate(20, 10), 1e-12);
    assertEquals(0.0, s.learningRate(40, 10), 1e-12);
    assertEquals(0.0, s.learningRate(55, 10), 1e-12);
    LrSchedule w =
        LrSchedule.builder().setBaseLr(0.1).optWarmup(10, 0.1).optCosine(3, 0.01).build();
    // cosine runs over the 20 steps after the warm-up
    assertEquals(
        0.01 + 0.09 * 0.5 * (1 + Math.cos(Math.PI * 5 / 20)), w.learningRate(15, 10), 1e-12);
    assertEquals(0.1 * (0.1 * 0.5 + 0.5), w.learningRate(5, 10), 1e-12);
  }

  @Test
  void badArgumentsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.builder().setBaseLr(0));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.builder().optWarmup(5, 0));
    assertThrows(
        IllegalArgumentException.class, () -> LrSchedule.builder().optMultiStep(0.1, 3, 2));
    assertThrows(
        IllegalArgumentException.class, () -> LrSchedule.constant(0.1).learningRate(-1, 5));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(0.1).learningRate(0, 0));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> LrSchedule.builder().optWarmup(5, 1).build());
    assertTrue(e.getMessage().contains("setBaseLr"), e.getMessage());
  }
}
