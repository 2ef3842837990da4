package dev.jdetect.core.coder;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BoxLinearCoder} against torchvision 0.14.1's {@code BoxLinearCoder} ({@code
 * fixtures/coder/box_linear_coder.npz}, written by {@code src/fixtures/gen_core_fcos.py}), with and
 * without normalisation, decode with its gradient; plus a hand-computed case.
 */
@ExtendWith(NDManagerExtension.class)
class BoxLinearCoderTest {

  @Test
  void encodeAndDecodeMatchTorchvision(NDManager manager) {
    NDList fx = Fixtures.load(manager, "/fixtures/coder/box_linear_coder.npz");
    for (String tag : new String[] {"norm", "raw"}) {
      BoxLinearCoder coder = new BoxLinearCoder("norm".equals(tag));
      NDArray encoded =
          coder.encode(Fixtures.get(fx, tag + "_reference"), Fixtures.get(fx, tag + "_proposals"));
      assertClose(Fixtures.get(fx, tag + "_encoded"), encoded, 1e-5f, tag + " encode");
      NDArray codes = Fixtures.get(fx, tag + "_codes");
      codes.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray decoded = coder.decode(codes, Fixtures.get(fx, tag + "_anchors"));
        assertClose(Fixtures.get(fx, tag + "_decoded"), decoded, 1e-4f, tag + " decode");
        collector.backward(decoded.mul(Fixtures.get(fx, tag + "_weight")).sum());
      }
      assertClose(
          Fixtures.get(fx, tag + "_grad_codes"), codes.getGradient(), 1e-4f, tag + " gradient");
    }
  }

  /** Reference box (0, 0, 10, 20): centre (5, 10); box (1, 2, 9, 30) is 4, 8, 4, 20 away. */
  @Test
  void handComputedRoundTrip(NDManager manager) {
    NDArray reference = manager.create(new float[] {0, 0, 10, 20}, new Shape(1, 4));
    NDArray box = manager.create(new float[] {1, 2, 9, 30}, new Shape(1, 4));
    BoxLinearCoder normalised = new BoxLinearCoder(true);
    NDArray codes = normalised.encode(reference, box);
    assertArrayEquals(new float[] {0.4f, 0.4f, 0.4f, 1.0f}, codes.toFloatArray(), 1e-6f);
    assertArrayEquals(
        new float[] {1, 2, 9, 30}, normalised.decode(codes, reference).toFloatArray(), 1e-5f);
    assertArrayEquals(
        new float[] {4, 8, 4, 20},
        new BoxLinearCoder(false).encode(reference, box).toFloatArray(),
        0f);
  }

  @Test
  void shapesMustAgree(NDManager manager) {
    BoxLinearCoder coder = new BoxLinearCoder(true);
    NDArray four = manager.zeros(new Shape(3, 4));
    assertThrows(
        IllegalArgumentException.class, () -> coder.encode(four, manager.zeros(new Shape(2, 4))));
    assertThrows(
        IllegalArgumentException.class,
        () -> coder.decode(manager.zeros(new Shape(3, 5)), manager.zeros(new Shape(3, 5))));
  }
}
