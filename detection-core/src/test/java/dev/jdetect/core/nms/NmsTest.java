package dev.jdetect.core.nms;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nms.Nms.Backend;
import dev.jdetect.testkit.Fixtures;
import dev.jdetect.testkit.NDManagerExtension;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Nms} against torchvision 0.14.1 ({@code fixtures/nms/nms_{1000,6000}.npz}, written by
 * {@code src/fixtures/gen_core_nms_roi.py}: boxes on a 0.5 grid, ~65 distinct scores so there are
 * many ties, 5% exact duplicates), both backends, plus hand-computed and bad-input cases.
 */
@ExtendWith(NDManagerExtension.class)
class NmsTest {

  private static final double[] THRESHOLDS = {0.5, 0.7, 0.3};
  private static final String[] TAGS = {"05", "07", "03"};

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  @Test
  void nmsMatchesTorchvisionOnBothBackends() {
    for (int n : new int[] {1000, 6000}) {
      NDList fx = Fixtures.load(manager, "/fixtures/nms/nms_" + n + ".npz");
      NDArray boxes = Fixtures.get(fx, "boxes");
      NDArray scores = Fixtures.get(fx, "scores");
      for (int t = 0; t < THRESHOLDS.length; t++) {
        long[] expected = Fixtures.get(fx, "keep_" + TAGS[t]).toLongArray();
        for (Backend backend : Backend.values()) {
          NDArray keep = Nms.nms(boxes, scores, THRESHOLDS[t], Integer.MAX_VALUE, backend);
          assertEquals(DataType.INT64, keep.getDataType());
          assertArrayEquals(
              expected, keep.toLongArray(), "n=" + n + " thr=" + THRESHOLDS[t] + " " + backend);
        }
      }
    }
  }

  @Test
  void batchedNmsMatchesTorchvisionOnBothBackends() {
    for (int n : new int[] {1000, 6000}) {
      NDList fx = Fixtures.load(manager, "/fixtures/nms/nms_" + n + ".npz");
      NDArray boxes = Fixtures.get(fx, "boxes");
      NDArray scores = Fixtures.get(fx, "scores");
      NDArray groups32 = Fixtures.get(fx, "group_ids");
      NDArray groups64 = groups32.toType(DataType.INT64, true);
      for (int t = 0; t < THRESHOLDS.length; t++) {
        long[] expected = Fixtures.get(fx, "batched_keep_" + TAGS[t]).toLongArray();
        for (Backend backend : Backend.values()) {
          NDArray[] groupArrays =
              backend == Backend.DEVICE
                  ? new NDArray[] {groups32}
                  : new NDArray[] {groups32, groups64};
          for (NDArray groups : groupArrays) {
            NDArray keep =
                Nms.batchedNms(boxes, scores, groups, THRESHOLDS[t], Integer.MAX_VALUE, backend);
            assertArrayEquals(
                expected,
                keep.toLongArray(),
                "n=" + n + " thr=" + THRESHOLDS[t] + " " + backend + " " + groups.getDataType());
          }
        }
      }
    }
  }

  @Test
  void topKIsAPrefixOfTheFullResult() {
    NDList fx = Fixtures.load(manager, "/fixtures/nms/nms_1000.npz");
    NDArray boxes = Fixtures.get(fx, "boxes");
    NDArray scores = Fixtures.get(fx, "scores");
    NDArray groups = Fixtures.get(fx, "group_ids");
    long[] full = Fixtures.get(fx, "keep_05").toLongArray();
    long[] fullBatched = Fixtures.get(fx, "batched_keep_05").toLongArray();
    for (Backend backend : Backend.values()) {
      for (int k : new int[] {0, 1, 17, full.length, full.length + 5}) {
        long[] keep = Nms.nms(boxes, scores, 0.5, k, backend).toLongArray();
        assertArrayEquals(Arrays.copyOf(full, Math.min(k, full.length)), keep, backend + " k=" + k);
        long[] bkeep = Nms.batchedNms(boxes, scores, groups, 0.5, k, backend).toLongArray();
        assertArrayEquals(
            Arrays.copyOf(fullBatched, Math.min(k, fullBatched.length)),
            bkeep,
            backend + " batched k=" + k);
      }
    }
    assertArrayEquals(
        Arrays.copyOf(full, 17), Nms.nms(boxes, scores, 0.5, 17).toLongArray(), "auto overload");
  }

  @Test
  void handComputedSemantics() {
    // IoU of boxes 0 and 1 is exactly 0.5: suppression needs IoU strictly greater.
    NDArray boxes =
        manager.create(
            new float[] {
              0, 0, 4, 1, // 0
              0, 0, 2, 1, // 1: IoU(0,1) = 2 / 4 = 0.5
              10, 10, 12, 12, // 2
              10, 10, 12, 12, // 3: duplicate of 2 with the same score -> 2 wins (lower index)
              11, 10, 13, 12, // 4: IoU(2,4) = 2/6, IoU(3,4) same
              20, 20, 22, 22 // 5
            },
            new Shape(6, 4));
    NDArray scores = manager.create(new float[] {0.9f, 0.8f, 0.5f, 0.5f, 0.6f, 0.1f});
    for (Backend backend : Backend.values()) {
      assertArrayEquals(
          new long[] {0, 1, 4, 2, 5},
          Nms.nms(boxes, scores, 0.5, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
      assertArrayEquals(
          new long[] {0, 4, 5},
          Nms.nms(boxes, scores, 0.3, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
      // threshold 0.49: 1 goes; 4 (0.6) suppresses neither 2 nor 3 (IoU 1/3), 2 suppresses 3.
      assertArrayEquals(
          new long[] {0, 4, 2, 5},
          Nms.nms(boxes, scores, 0.49, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
      // negative threshold: every overlap-free pair still has IoU 0 > -0.1, so only one box.
      assertArrayEquals(
          new long[] {0},
          Nms.nms(boxes, scores, -0.1, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
      // threshold 1: nothing can be suppressed; all boxes in score order, ties by index.
      assertArrayEquals(
          new long[] {0, 1, 4, 2, 3, 5},
          Nms.nms(boxes, scores, 1.0, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
    }
  }

  @Test
  void suppressionChainsFollowGreedyOrder() {
    // a overlaps b, b overlaps c, a does not overlap c: greedy keeps a and c.
    NDArray boxes =
        manager.create(new float[] {0, 0, 10, 10, 4, 0, 14, 10, 8, 0, 18, 10}, new Shape(3, 4));
    NDArray scores = manager.create(new float[] {0.9f, 0.8f, 0.7f});
    for (Backend backend : Backend.values()) {
      assertArrayEquals(
          new long[] {0, 2},
          Nms.nms(boxes, scores, 0.3, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
    }
  }

  @Test
  void groupsNeverSuppressEachOther() {
    NDArray boxes =
        manager.create(new float[] {0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10}, new Shape(3, 4));
    NDArray scores = manager.create(new float[] {0.5f, 0.9f, 0.7f});
    NDArray groups = manager.create(new long[] {3, 7, 3});
    for (Backend backend : Backend.values()) {
      assertArrayEquals(
          new long[] {1, 2},
          Nms.batchedNms(boxes, scores, groups, 0.5, Integer.MAX_VALUE, backend).toLongArray(),
          backend.toString());
    }
  }

  @Test
  void backendsAgreeOnRandomMixedSizes() {
    Random rnd = new Random(7);
    for (int round = 0; round < 2; round++) {
      int n = 2500;
      float[] b = new float[4 * n];
      float[] s = new float[n];
      long[] g = new long[n];
      for (int i = 0; i < n; i++) {
        // mostly small boxes plus a few huge ones (exercise the grid's big-box list)
        float size = rnd.nextInt(50) == 0 ? 300 + rnd.nextInt(400) : 2 + rnd.nextInt(40);
        float x = rnd.nextInt(800) / 2f;
        float y = rnd.nextInt(800) / 2f;
        b[4 * i] = x;
        b[4 * i + 1] = y;
        b[4 * i + 2] = x + size * (0.5f + rnd.nextFloat());
        b[4 * i + 3] = y + size * (0.5f + rnd.nextFloat());
        s[i] = rnd.nextInt(100) / 100f;
        g[i] = rnd.nextInt(4);
      }
      NDArray boxes = manager.create(b, new Shape(n, 4));
      NDArray scores = manager.create(s);
      NDArray groups = manager.create(g);
      for (double t : new double[] {0.0, 0.45, 0.8}) {
        long[] java = Nms.nms(boxes, scores, t, Integer.MAX_VALUE, Backend.JAVA).toLongArray();
        long[] dev = Nms.nms(boxes, scores, t, Integer.MAX_VALUE, Backend.DEVICE).toLongArray();
        assertArrayEquals(dev, java, "t=" + t);
        assertArrayEquals(
            reference(b, s, null, Nms.floatThreshold(t)), java, "t=" + t + " vs reference");
        long[] bj =
            Nms.batchedNms(boxes, scores, groups, t, Integer.MAX_VALUE, Backend.JAVA).toLongArray();
        long[] bd =
            Nms.batchedNms(boxes, scores, groups, t, Integer.MAX_VALUE, Backend.DEVICE)
                .toLongArray();
        assertArrayEquals(bd, bj, "batched t=" + t);
        assertArrayEquals(
            reference(b, s, g, Nms.floatThreshold(t)), bj, "batched t=" + t + " vs reference");
      }
    }
  }

  @Test
  void javaMatchesReferenceOnAdversarialBoxes() {
    // zero-area, sliver, tiny, huge and negative-coordinate boxes; many duplicates and ties
    Random rnd = new Random(3);
    for (int round = 0; round < 12; round++) {
      int n = 300 + rnd.nextInt(900);
      float[] b = new float[4 * n];
      float[] s = new float[n];
      long[] g = new long[n];
      for (int i = 0; i < n; i++) {
        int kind = rnd.nextInt(6);
        float x = rnd.nextInt(400) - 100 + (rnd.nextBoolean() ? 0.25f : 0f);
        float y = rnd.nextInt(400) - 100;
        float w;
        float h;
        switch (kind) {
          case 0: // zero width or height
            w = rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(30);
            h = w == 0 ? 1 + rnd.nextInt(30) : 0;
            break;
          case 1: // slivers
            w = 200 + rnd.nextInt(200);
            h = 0.5f + rnd.nextInt(3);
            break;
          case 2: // tiny
            w = 1e-3f * (1 + rnd.nextInt(100));
            h = 1e-3f * (1 + rnd.nextInt(100));
            break;
          case 3: // huge
            w = 500 + rnd.nextInt(2000);
            h = 500 + rnd.nextInt(2000);
            break;
          default:
            w = 5 + rnd.nextInt(60);
            h = 5 + rnd.nextInt(60);
        }
        if (i > 10 && rnd.nextInt(10) == 0) {
          System.arraycopy(b, 4 * rnd.nextInt(i), b, 4 * i, 4); // duplicate an earlier box
        } else {
          b[4 * i] = x;
          b[4 * i + 1] = y;
          b[4 * i + 2] = x + w;
          b[4 * i + 3] = y + h;
        }
        s[i] = rnd.nextInt(20) / 20f;
        g[i] = rnd.nextInt(3);
      }
      NDArray boxes = manager.create(b, new Shape(n, 4));
      NDArray scores = manager.create(s);
      NDArray groups = manager.create(g);
      for (double t : new double[] {0.0, 1e-6, 0.1, 0.5, 0.7, 0.95, 1.0}) {
        assertArrayEquals(
            reference(b, s, null, Nms.floatThreshold(t)),
            Nms.nms(boxes, scores, t, Integer.MAX_VALUE, Backend.JAVA).toLongArray(),
            "round " + round + " t=" + t);
        assertArrayEquals(
            reference(b, s, g, Nms.floatThreshold(t)),
            Nms.batchedNms(boxes, scores, groups, t, Integer.MAX_VALUE, Backend.JAVA).toLongArray(),
            "batched round " + round + " t=" + t);
      }
    }
  }

  /** Textbook O(n^2) greedy NMS with torchvision's arithmetic. */
  private static long[] reference(float[] b, float[] s, long[] g, float t) {
    int n = s.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (p, q) -> Float.compare(s[q], s[p])); // stable
    boolean[] suppressed = new boolean[n];
    long[] keep = new long[n];
    int kc = 0;
    for (int a = 0; a < n; a++) {
      int i = order[a];
      if (suppressed[i]) {
        continue;
      }
      keep[kc++] = i;
      float ai = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
      for (int c = a + 1; c < n; c++) {
        int j = order[c];
        if (suppressed[j] || (g != null && g[i] != g[j])) {
          continue;
        }
        float aj = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
        float w = Math.max(0f, Math.min(b[4 * i + 2], b[4 * j + 2]) - Math.max(b[4 * i], b[4 * j]));
        float h =
            Math.max(
                0f, Math.min(b[4 * i + 3], b[4 * j + 3]) - Math.max(b[4 * i + 1], b[4 * j + 1]));
        float inter = w * h;
        if (inter / (ai + aj - inter) > t) {
          suppressed[j] = true;
        }
      }
    }
    return Arrays.copyOf(keep, kc);
  }

  @Test
  void thresholdIsComparedLikeADouble() {
    assertEquals(Math.nextDown(0.6f), Nms.floatThreshold(0.6)); // 0.6f > 0.6
    assertEquals(0.7f, Nms.floatThreshold(0.7)); // 0.7f < 0.7
    assertEquals(0.5f, Nms.floatThreshold(0.5));
    assertTrue(0.6f > 0.6 && !(Math.nextDown(0.6f) > 0.6));
  }

  @Test
  void emptyInputsGiveEmptyResults() {
    NDArray boxes = manager.zeros(new Shape(0, 4));
    NDArray scores = manager.zeros(new Shape(0));
    NDArray groups = manager.zeros(new Shape(0), DataType.INT64);
    for (Backend backend : Backend.values()) {
      NDArray keep = Nms.nms(boxes, scores, 0.5, 10, backend);
      assertEquals(new Shape(0), keep.getShape());
      assertEquals(DataType.INT64, keep.getDataType());
      NDArray bkeep = Nms.batchedNms(boxes, scores, groups, 0.5, 10, backend);
      assertEquals(new Shape(0), bkeep.getShape());
    }
  }

  @Test
  void resultBelongsToTheCallersManager() {
    NDArray boxes = manager.create(new float[] {0, 0, 1, 1}, new Shape(1, 4));
    NDArray scores = manager.create(new float[] {1f});
    for (Backend backend : Backend.values()) {
      NDArray keep = Nms.nms(boxes, scores, 0.5, 5, backend);
      assertSame(manager, keep.getManager());
      assertArrayEquals(new long[] {0}, keep.toLongArray());
    }
  }

  @Test
  void badInputThrowsIllegalArgument() {
    NDArray good = manager.create(new float[] {0, 0, 1, 1, 1, 1, 2, 2}, new Shape(2, 4));
    NDArray goodScores = manager.create(new float[] {0.1f, 0.2f});
    assertMessage(
        () -> Nms.nms(manager.zeros(new Shape(2, 3)), goodScores, 0.5), "boxes", "(2, 3)");
    assertMessage(() -> Nms.nms(good, manager.zeros(new Shape(3)), 0.5), "scores", "(3)");
    assertMessage(() -> Nms.nms(good, goodScores, Double.NaN), "iouThreshold", "NaN");
    assertMessage(() -> Nms.nms(good, goodScores, 0.5, -1), "topK", "-1");
    assertMessage(
        () -> Nms.batchedNms(good, goodScores, manager.zeros(new Shape(2)), 0.5),
        "groupIds",
        "float32");
    assertMessage(
        () -> Nms.batchedNms(good, goodScores, manager.zeros(new Shape(1), DataType.INT64), 0.5),
        "groupIds",
        "(1)");
    NDArray nan = manager.create(new float[] {0, 0, 1, 1, 1, Float.NaN, 2, 2}, new Shape(2, 4));
    NDArray flipped = manager.create(new float[] {0, 0, 1, 1, 3, 1, 2, 2}, new Shape(2, 4));
    NDArray nanScores = manager.create(new float[] {0.1f, Float.NaN});
    for (Backend backend : Backend.values()) {
      assertMessage(() -> Nms.nms(nan, goodScores, 0.5, 10, backend), "boxes", "finite");
      assertMessage(() -> Nms.nms(flipped, goodScores, 0.5, 10, backend), "boxes", "x2 >= x1");
      assertMessage(() -> Nms.nms(good, nanScores, 0.5, 10, backend), "scores", "NaN");
    }
  }

  private static void assertMessage(Runnable call, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    for (String part : parts) {
      assertTrue(
          e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
    }
  }
}
