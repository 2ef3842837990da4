package dev.jdetect.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jdetect.testkit.NDManagerExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NDManagerExtension.class)
class ResumableOptimizerTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  private float step(ResumableOptimizer opt, NDArray w, float g, double lr) {
    try (NDManager scope = manager.newSubManager()) {
      opt.update("w", w, scope.create(new float[] {g}), lr);
    }
    return w.getFloat(0);
  }

  @Test
  void sgdWithMomentumAndWeightDecayMatchesHandComputation() {
    ResumableSgd sgd = ResumableSgd.builder().optMomentum(0.9f).optWeightDecay(0.01f).build();
    sgd.setManager(manager);
    NDArray w = manager.create(new float[] {1f});
    // step 1: buf = g + wd*w = 0.51; w = 1 - 0.1*0.51
    assertEquals(0.949, step(sgd, w, 0.5f, 0.1), 1e-6);
    // step 2: d = 0.5 + 0.01*0.949 = 0.50949; buf = 0.9*0.51 + 0.50949 = 0.96849
    assertEquals(0.949 - 0.096849, step(sgd, w, 0.5f, 0.1), 1e-6);
    assertEquals(0.96849, sgd.getState("w", 0).getFloat(0), 1e-6);
    assertEquals(2, sgd.getStepCount("w"));
  }

  @Test
  void sgdNesterovAndDampening() {
    ResumableSgd nesterov =
        ResumableSgd.builder().optMomentum(0.5f).optWeightDecay(0).optNesterov(true).build();
    nesterov.setManager(manager);
    NDArray w = manager.create(new float[] {0f});
    // step 1: buf = 2; d = 2 + 0.5*2 = 3
    assertEquals(-0.3, step(nesterov, w, 2f, 0.1), 1e-6);
    // step 2: buf = 0.5*2 + 1 = 2; d = 1 + 0.5*2 = 2
    assertEquals(-0.5, step(nesterov, w, 1f, 0.1), 1e-6);

    ResumableSgd damped =
        ResumableSgd.builder().optMomentum(0.5f).optDampening(0.5f).optWeightDecay(0).build();
    damped.setManager(manager);
    NDArray v = manager.create(new float[] {0f});
    assertEquals(-2, step(damped, v, 2f, 1), 1e-6); // first step: buf = g, no dampening
    // buf = 0.5 * 2 + (1 - 0.5) * 2 = 2
    assertEquals(-4, step(damped, v, 2f, 1), 1e-6);
    assertThrows(
        IllegalArgumentException.class,
        () -> ResumableSgd.builder().optMomentum(0).optNesterov(true).build());
  }

  @Test
  void adamMatchesHandComputation() {
    ResumableAdam adam = ResumableAdam.builder().build();
    adam.setManager(manager);
    NDArray w = manager.create(new float[] {1f});
    // step 1: mhat = g, vhat = g^2 -> w -= lr * g / (|g| + eps)
    assertEquals(1 - 0.1 * 0.5 / (0.5 + 1e-8), step(adam, w, 0.5f, 0.1), 1e-6);
    // step 2 with g = 0.25
    double m = 0.9 * 0.05 + 0.1 * 0.25;
    double v = 0.999 * 0.00025 + 0.001 * 0.0625;
    double mhat = m / (1 - 0.81);
    double denom = Math.sqrt(v) / Math.sqrt(1 - 0.998001) + 1e-8;
    double expected = (1 - 0.1 * 0.5 / (0.5 + 1e-8)) - 0.1 * mhat / denom;
    assertEquals(0.806782, expected, 1e-6);
    assertEquals(expected, step(adam, w, 0.25f, 0.1), 1e-6);
  }

  @Test
  void adamWeightDecayCoupledAndDecoupled() {
    ResumableAdam l2 = ResumableAdam.builder().optWeightDecay(0.1f).build();
    l2.setManager(manager);
    NDArray w = manager.create(new float[] {2f});
    // g = 0.5 + 0.1*2 = 0.7 -> first step moves by lr * sign
    assertEquals(2 - 0.01 * 0.7 / (0.7 + 1e-8), step(l2, w, 0.5f, 0.01), 1e-6);

    ResumableAdam adamw =
        ResumableAdam.builder().optWeightDecay(0.1f).optDecoupledWeightDecay(true).build();
    adamw.setManager(manager);
    NDArray u = manager.create(new float[] {2f});
    // w = 2 * (1 - 0.01*0.1) then w -= 0.01 * 0.5 / 0.5
    assertEquals(2 * (1 - 0.001) - 0.01 * 0.5 / (0.5 + 1e-8), step(adamw, u, 0.5f, 0.01), 1e-6);
    assertEquals("adamw", adamw.algorithm());
  }

  @Test
  void stateRoundTripsExactly() throws IOException {
    for (ResumableOptimizer[] pair :
        new ResumableOptimizer[][] {
          {ResumableSgd.builder().build(), ResumableSgd.builder().build()},
          {ResumableAdam.builder().build(), ResumableAdam.builder().build()}
        }) {
      ResumableOptimizer a = pair[0];
      ResumableOptimizer b = pair[1];
      a.setManager(manager);
      b.setManager(manager);
      NDArray wa = manager.create(new float[] {0.3f, -1.2f, 4f});
      float[][] grads = {{0.1f, -0.7f, 2f}, {-0.3f, 0.2f, 1f}, {0.05f, 0.5f, -3f}};
      for (int i = 0; i < 2; i++) {
        a.update("w", wa, manager.create(grads[i]), 0.05);
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      a.saveState(new DataOutputStream(bytes));
      b.loadState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
      assertEquals(2, b.getStepCount("w"));
      NDArray wb = wa.duplicate();
      a.update("w", wa, manager.create(grads[2]), 0.05);
      b.update("w", wb, manager.create(grads[2]), 0.05);
      assertArrayEquals(wa.toFloatArray(), wb.toFloatArray(), a.algorithm());
      assertArrayEquals(
          a.getState("w", 0).toFloatArray(), b.getState("w", 0).toFloatArray(), a.algorithm());
    }
    ResumableOptimizer adam = ResumableAdam.builder().build();
    adam.setManager(manager);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ResumableSgd.builder().build().saveState(new DataOutputStream(bytes));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                adam.loadState(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))));
    assertTrue(e.getMessage().contains("'sgd'"), e.getMessage());
  }

  @Test
  void updateClosesItsTemporaries() {
    ResumableAdam adam = ResumableAdam.builder().optWeightDecay(0.01f).build();
    NDManager state = manager.newSubManager();
    adam.setManager(state);
    NDArray w = manager.create(new float[] {1f, 2f});
    NDArray g = manager.create(new float[] {0.5f, 0.5f});
    adam.update("w", w, g, 0.1);
    int after1 = manager.getManagedArrays().size();
    for (int i = 0; i < 5; i++) {
      adam.update("w", w, g, 0.1);
    }
    assertEquals(after1, manager.getManagedArrays().size());
    assertEquals(2, state.getManagedArrays().size());
    assertThrows(
        IllegalArgumentException.class,
        () -> adam.update("w", w, manager.create(new float[] {1f}), 0.1));
  }
}
