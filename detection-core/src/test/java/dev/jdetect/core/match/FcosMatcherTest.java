package dev.jdetect.core.match;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link FcosMatcher} against the matching in torchvision 0.14.1's {@code FCOS.compute_loss}
 * ({@code fixtures/match/fcos_matcher.npz}, written by {@code src/fixtures/gen_core_fcos.py}): five
 * levels of FCOS anchors on a 96x128 image; boxes of mixed sizes with an equal-area tie and a box
 * inside another, random boxes, boxes too small to hold an anchor centre, no boxes, and radius 1.
 */
@ExtendWith(NDManagerExtension.class)
class FcosMatcherTest {

  @Test
  void matchesLikeTorchvision(NDManager manager) {
    NDList fx = Fixtures.load(manager, "/fixtures/match/fcos_matcher.npz");
    NDArray anchors = Fixtures.get(fx, "anchors");
    int[] perLevel = Fixtures.get(fx, "per_level").toType(DataType.INT32, false).toIntArray();
    FcosMatcher matcher = new FcosMatcher(1.5f);
    for (String name : new String[] {"mixed", "random", "tiny", "empty"}) {
      NDArray matched = matcher.match(anchors, Fixtures.get(fx, name + "_boxes"), perLevel);
      assertEquals(DataType.INT64, matched.getDataType());
      assertArrayEquals(
          Fixtures.get(fx, name + "_matched").toLongArray(), matched.toLongArray(), name);
    }
    NDArray radius1 = new FcosMatcher(1f).match(anchors, Fixtures.get(fx, "mixed_boxes"), perLevel);
    assertArrayEquals(
        Fixtures.get(fx, "mixed_radius1_matched").toLongArray(), radius1.toLongArray(), "radius 1");
  }

  /**
   * Two levels of one anchor each: an 8-pixel anchor centred at (4, 4) and a 16-pixel anchor
   * centred at (8, 8); the box (0, 0, 16, 16) is centred at (8, 8). The first anchor is 4 from the
   * centre (< 1.5 x 8), inside the box with edge distances (4, 4, 12, 12), and on the first level
   * (no lower bound; 12 < 8 x 8): matched. The second is on the last level (no upper bound) but its
   * largest distance 8 is not above 4 x 16: unmatched.
   */
  @Test
  void handComputedLevels(NDManager manager) {
    NDArray anchors = manager.create(new float[] {0, 0, 8, 8, 0, 0, 16, 16}, new Shape(2, 4));
    NDArray box = manager.create(new float[] {0, 0, 16, 16}, new Shape(1, 4));
    long[] matched = new FcosMatcher(1.5f).match(anchors, box, new int[] {1, 1}).toLongArray();
    assertArrayEquals(new long[] {0, FcosMatcher.UNMATCHED}, matched);
  }

  @Test
  void badInputIsNamed(NDManager manager) {
    FcosMatcher matcher = new FcosMatcher(1.5f);
    NDArray anchors = manager.zeros(new Shape(4, 4));
    NDArray boxes = manager.zeros(new Shape(1, 4));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> matcher.match(anchors, boxes, new int[] {1, 2}));
    assertEquals("anchorsPerLevel [1, 2] add up to 3 but there are 4 anchors", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new FcosMatcher(0f));
    assertThrows(
        IllegalArgumentException.class,
        () -> matcher.match(anchors, manager.zeros(new Shape(1, 5)), new int[] {4}));
  }
}
