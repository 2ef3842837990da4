package dev.jdetect.core.anchor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultiBoxPriorsTest {

  @Test
  void levelsConcatenateAndScaleToTheInput() {
    MultiBoxPriors priors = MultiBoxPriors.of(new float[][] {{0.5f}, {0.8f}}, new float[] {1f});
    assertArrayEquals(new int[] {1, 1}, priors.numAnchorsPerLocation());
    try (NDManager manager = NDManager.newBaseManager()) {
      List<Shape> maps = List.of(new Shape(1, 8, 2, 2), new Shape(1, 8, 1, 1));
      // 2x2 map, size 0.5: centres at 0.25 / 0.75, half-size 0.25; 1x1 map, size 0.8
      float[] relative = {
        0, 0, 0.5f, 0.5f, 0.5f, 0, 1, 0.5f, 0, 0.5f, 0.5f, 1, 0.5f, 0.5f, 1, 1, 0.1f, 0.1f, 0.9f,
        0.9f
      };
      assertArrayEquals(relative, priors.generateRelative(manager, maps).toFloatArray(), 1e-6f);
      // x scales with the width (200), y with the height (100)
      float[] pixels = new float[relative.length];
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = relative[i] * (i % 2 == 0 ? 200 : 100);
      }
      assertArrayEquals(pixels, priors.generate(manager, maps, 100, 200).toFloatArray(), 1e-4f);
      assertThrows(
          IllegalArgumentException.class,
          () -> priors.generate(manager, List.of(new Shape(2, 2)), 100, 200));
      assertThrows(IllegalArgumentException.class, () -> priors.generate(manager, maps, 0, 200));
    }
    assertThrows(IllegalArgumentException.class, () -> new MultiBoxPriors(List.of()));
  }
}
