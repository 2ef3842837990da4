package dev.jdetect.core.nms;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Greedy NMS on Java arrays. Candidates are visited in (score desc, index asc) order and tested
 * only against kept boxes that share a grid cell with them (one grid per box size class, see {@link
 * #greedy}). Because IoU is symmetric bit for bit (max/min/+ commute), "kept iff no kept box has
 * IoU > t with it" reproduces torchvision's suppression loop exactly; for {@code t >= 0} only boxes
 * with a positive intersection can suppress, and two such boxes always share a cell.
 */
final class GridNms {

  /** Below this many candidates a linear scan over the kept boxes is used. */
  private static final int SMALL = 48;

  /** Kept boxes covering more cells than this go to a list every candidate checks. */
  private static final int BIG_CELLS = 16;

  /** Batched inputs at least this large run their groups in parallel. */
  private static final int PARALLEL_MIN = 4096;

  private GridNms() {}

  /**
   * Runs (batched) greedy NMS.
   *
   * @param b boxes, row-major (N, 4)
   * @param s scores (N)
   * @param groups group id per box or {@code null}
   * @param t float threshold: suppress when IoU {@code > t}
   * @param topK maximum kept
   * @return kept original indices in (score desc, index asc) order
   */
  static long[] run(float[] b, float[] s, long[] groups, float t, int topK) {
    int n = s.length;
    float[] x1 = new float[n];
    float[] y1 = new float[n];
    float[] x2 = new float[n];
    float[] y2 = new float[n];
    float[] area = new float[n];
    for (int i = 0; i < n; i++) {
      x1[i] = b[4 * i];
      y1[i] = b[4 * i + 1];
      x2[i] = b[4 * i + 2];
      y2[i] = b[4 * i + 3];
      area[i] = (x2[i] - x1[i]) * (y2[i] - y1[i]);
    }
    int[] order = sortedOrder(s);
    Boxes bx = new Boxes(x1, y1, x2, y2, area);
    if (groups == null) {
      int[] out = new int[Math.min(n, topK)];
      int kept = greedy(order, 0, n, bx, t, topK, out);
      long[] result = new long[kept];
      for (int i = 0; i < kept; i++) {
        result[i] = out[i];
      }
      return result;
    }
    // Partition the sorted order by group, keeping the order inside each group.
    Map<Long, Integer> groupIndex = new HashMap<>();
    int[] groupOf = new int[n];
    int[] counts = new int[16];
    for (int r = 0; r < n; r++) {
      long id = groups[order[r]];
      Integer gi = groupIndex.get(id);
      if (gi == null) {
        gi = groupIndex.size();
        groupIndex.put(id, gi);
        if (gi == counts.length) {
          counts = Arrays.copyOf(counts, counts.length * 2);
        }
      }
      groupOf[r] = gi;
      counts[gi]++;
    }
    int numGroups = groupIndex.size();
    int[] start = new int[numGroups + 1];
    for (int gi = 0; gi < numGroups; gi++) {
      start[gi + 1] = start[gi] + counts[gi];
    }
    int[] fill = Arrays.copyOf(start, numGroups);
    int[] grouped = new int[n];
    int[] rank = new int[n];
    for (int r = 0; r < n; r++) {
      grouped[fill[groupOf[r]]++] = order[r];
      rank[order[r]] = r;
    }
    boolean[] keptAtRank = new boolean[n];
    IntStream range = IntStream.range(0, numGroups);
    if (n >= PARALLEL_MIN && numGroups > 1) {
      range = range.parallel();
    }
    range.forEach(
        gi -> {
          int len = start[gi + 1] - start[gi];
          int[] out = new int[Math.min(len, topK)];
          int kept = greedy(grouped, start[gi], len, bx, t, topK, out);
          for (int i = 0; i < kept; i++) {
            keptAtRank[rank[out[i]]] = true; // distinct slots per group: no data race
          }
        });
    long[] tmp = new long[Math.min(n, topK)];
    int count = 0;
    for (int r = 0; r < n && count < tmp.length; r++) {
      if (keptAtRank[r]) {
        tmp[count++] = order[r];
      }
    }
    return Arrays.copyOf(tmp, count);
  }

  /** Indices sorted by descending score, ties by ascending index (-0.0 equals 0.0). */
  static int[] sortedOrder(float[] s) {
    int n = s.length;
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      float v = s[i] + 0.0f; // -0.0 -> +0.0
      int bits = Float.floatToIntBits(v);
      int sortable = bits < 0 ? bits ^ 0x7fffffff : bits; // signed order == float order
      keys[i] = ((long) ~sortable << 32) | i; // ~ reverses the order: descending scores
    }
    Arrays.sort(keys);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = (int) keys[i];
    }
    return order;
  }

  /** Column-wise boxes and float32 areas. */
  private static final class Boxes {
    final float[] x1;
    final float[] y1;
    final float[] x2;
    final float[] y2;
    final float[] area;

    Boxes(float[] x1, float[] y1, float[] x2, float[] y2, float[] area) {
      this.x1 = x1;
      this.y1 = y1;
      this.x2 = x2;
      this.y2 = y2;
      this.area = area;
    }

    /** True iff kept box {@code k} suppresses box {@code j}: torchvision's float32 IoU > t. */
    boolean suppresses(int k, int j, float t) {
      float xx1 = Math.max(x1[k], x1[j]);
      float yy1 = Math.max(y1[k], y1[j]);
      float xx2 = Math.min(x2[k], x2[j]);
      float yy2 = Math.min(y2[k], y2[j]);
      float w = Math.max(0f, xx2 - xx1);
      float h = Math.max(0f, yy2 - yy1);
      float inter = w * h;
      float ovr = inter / (area[k] + area[j] - inter);
      return ovr > t;
    }
  }

  /**
   * Greedy NMS over {@code cand[from .. from+len)} (original indices, already in processing order).
   * Writes kept indices to {@code out} and returns their count.
   *
   * <p>Kept boxes are filed by size class {@code c = floor(log2(sqrt(area)))} in a hashed grid
   * whose cells for class {@code c} have side {@code 2^(c+1)}, so a box covers few cells. Since IoU
   * is at most {@code min(area) / max(area)}, a candidate only looks at classes whose sizes can
   * reach IoU {@code > t} with it (all classes when {@code t} is 0), and within them only at the
   * cells it touches (or at the class's whole list when that is shorter). Boxes with zero area can
   * neither suppress nor be suppressed when {@code t >= 0}.
   */
  private static int greedy(int[] cand, int from, int len, Boxes bx, float t, int topK, int[] out) {
    int limit = Math.min(len, topK);
    if (limit == 0) {
      return 0;
    }
    if (t < 0 || len <= SMALL) {
      return linear(cand, from, len, bx, t, limit, out);
    }
    float[] x1 = bx.x1;
    float[] y1 = bx.y1;
    float[] x2 = bx.x2;
    float[] y2 = bx.y2;
    float[] area = bx.area;
    // size ratio sqrt(min/max area) must exceed sqrt(t); widen a little for float rounding
    double ratio = Math.sqrt(t) * (1 - 1e-3);
    SizeGrid grid = new SizeGrid(limit);
    int[] big = new int[16];
    int bigCount = 0;
    int kept = 0;
    // kept boxes by slot, contiguous for locality: x1, y1, x2, y2, area
    float[] kb = new float[5 * limit];
    // stamp[q] == p: kept box q was already tested against candidate p (it spans several cells)
    int[] stamp = new int[limit];
    Arrays.fill(stamp, -1);

    for (int p = from; p < from + len; p++) {
      int j = cand[p];
      float jx1 = x1[j];
      float jy1 = y1[j];
      float jx2 = x2[j];
      float jy2 = y2[j];
      float aj = area[j];
      boolean suppressed = false;
      int cls = 0;
      if (aj > 0) {
        double size = Math.sqrt(aj);
        cls = Math.getExponent(size);
        for (int q = 0; q < bigCount && !suppressed; q++) {
          suppressed = hit(kb, big[q], jx1, jy1, jx2, jy2, aj, t);
        }
        int cMin = grid.minClass;
        int cMax = grid.maxClass;
        if (ratio > 0) {
          cMin = Math.max(cMin, Math.getExponent(size * ratio));
          cMax = Math.min(cMax, Math.getExponent(size / ratio));
        }
        search:
        for (int c = cMin; c <= cMax && !suppressed; c++) {
          int members = grid.classCount(c);
          if (members == 0) {
            continue;
          }
          double inv = grid.inverseCell(c);
          int cx0 = SizeGrid.cell(jx1, inv);
          int cx1 = SizeGrid.cell(jx2, inv);
          int cy0 = SizeGrid.cell(jy1, inv);
          int cy1 = SizeGrid.cell(jy2, inv);
          long cells = (long) (cx1 - cx0 + 1) * (cy1 - cy0 + 1);
          if (cells >= members) {
            int[] list = grid.classList(c);
            for (int e = 0; e < members; e++) {
              int q = list[e];
              if (stamp[q] != p) {
                stamp[q] = p;
                if (hit(kb, q, jx1, jy1, jx2, jy2, aj, t)) {
                  suppressed = true;
                  break search;
                }
              }
            }
            continue;
          }
          for (int cy = cy0; cy <= cy1; cy++) {
            for (int cx = cx0; cx <= cx1; cx++) {
              for (int e = grid.head(c, cx, cy); e >= 0; e = grid.next[e]) {
                int q = grid.item[e];
                if (stamp[q] == p) {
                  continue;
                }
                stamp[q] = p;
                if (hit(kb, q, jx1, jy1, jx2, jy2, aj, t)) {
                  suppressed = true;
                  break search;
                }
              }
            }
          }
        }
      }
      if (suppressed) {
        continue;
      }
      int slot = kept;
      out[kept++] = j;
      kb[5 * slot] = jx1;
      kb[5 * slot + 1] = jy1;
      kb[5 * slot + 2] = jx2;
      kb[5 * slot + 3] = jy2;
      kb[5 * slot + 4] = aj;
      if (kept == limit) {
        break;
      }
      if (!(aj > 0)) {
        continue; // zero area: never suppresses anything
      }
      double inv = grid.inverseCell(cls);
      int cx0 = SizeGrid.cell(jx1, inv);
      int cx1 = SizeGrid.cell(jx2, inv);
      int cy0 = SizeGrid.cell(jy1, inv);
      int cy1 = SizeGrid.cell(jy2, inv);
      long cells = (long) (cx1 - cx0 + 1) * (cy1 - cy0 + 1);
      if (cells > BIG_CELLS) {
        if (bigCount == big.length) {
          big = Arrays.copyOf(big, bigCount * 2);
        }
        big[bigCount++] = slot;
      } else {
        grid.addToClass(cls, slot);
        for (int cy = cy0; cy <= cy1; cy++) {
          for (int cx = cx0; cx <= cx1; cx++) {
            grid.insert(cls, cx, cy, slot);
          }
        }
      }
    }
    return kept;
  }

  /**
   * True iff kept slot {@code q} suppresses the candidate: torchvision's float32 IoU {@code inter /
   * (area_kept + area_cand - inter) > t}.
   */
  private static boolean hit(
      float[] kb, int q, float jx1, float jy1, float jx2, float jy2, float aj, float t) {
    int o = 5 * q;
    float w = Math.max(0f, Math.min(kb[o + 2], jx2) - Math.max(kb[o], jx1));
    float h = Math.max(0f, Math.min(kb[o + 3], jy2) - Math.max(kb[o + 1], jy1));
    float inter = w * h;
    return inter / (kb[o + 4] + aj - inter) > t;
  }

  /**
   * Kept boxes by size class: per-class lists plus a hashed grid (open addressing from a packed
   * (class, cx, cy) key to a linked list of entries). Key collisions only add harmless extra
   * checks; equal cells always share a key.
   */
  private static final class SizeGrid {
    private static final int CLASS_OFFSET = 1100; // Math.getExponent(double) is in [-1075, 1024]

    int minClass = Integer.MAX_VALUE;
    int maxClass = Integer.MIN_VALUE;
    private final int[][] classLists = new int[2 * CLASS_OFFSET][];
    private final int[] classCounts = new int[2 * CLASS_OFFSET];

    private long[] keys;
    private int[] heads;
    private int used;
    int[] next;
    int[] item;
    private int entries;

    SizeGrid(int expected) {
      int cap = Integer.highestOneBit(Math.max(64, 8 * expected) - 1) << 1;
      keys = new long[cap];
      heads = new int[cap];
      Arrays.fill(heads, -1);
      next = new int[Math.max(16, 4 * expected)];
      item = new int[next.length];
    }

    int classCount(int c) {
      return classCounts[c + CLASS_OFFSET];
    }

    int[] classList(int c) {
      return classLists[c + CLASS_OFFSET];
    }

    /** 1 / cell side of class {@code c}: cells are {@code 2^(c+1)} wide. */
    double inverseCell(int c) {
      return Math.scalb(1.0, -(c + 1));
    }

    /** Monotone map from a coordinate to its cell index. */
    static int cell(float v, double inv) {
      double d = Math.floor(v * inv);
      return (int) Math.max(-1e9, Math.min(1e9, d));
    }

    void addToClass(int c, int slot) {
      int k = c + CLASS_OFFSET;
      int[] list = classLists[k];
      if (list == null) {
        list = new int[8];
      } else if (classCounts[k] == list.length) {
        list = Arrays.copyOf(list, list.length * 2);
      }
      list[classCounts[k]++] = slot;
      classLists[k] = list;
      minClass = Math.min(minClass, c);
      maxClass = Math.max(maxClass, c);
    }

    private static long key(int c, int cx, int cy) {
      return ((long) c << 48) ^ ((long) cx << 24) ^ (cy & 0xffffffL) ^ ((long) cy << 40);
    }

    private int slotOf(long key) {
      long h = key * 0x9E3779B97F4A7C15L;
      int mask = keys.length - 1;
      int i = (int) (h >>> 40) & mask;
      while (heads[i] >= 0 && keys[i] != key) {
        i = (i + 1) & mask;
      }
      return i;
    }

    int head(int c, int cx, int cy) {
      return heads[slotOf(key(c, cx, cy))];
    }

    void insert(int c, int cx, int cy, int slot) {
      if (entries == next.length) {
        next = Arrays.copyOf(next, entries * 2);
        item = Arrays.copyOf(item, entries * 2);
      }
      long k = key(c, cx, cy);
      int i = slotOf(k);
      if (heads[i] < 0) {
        if (2 * (used + 1) > keys.length) {
          rehash();
          i = slotOf(k);
        }
        keys[i] = k;
        used++;
      }
      item[entries] = slot;
      next[entries] = heads[i];
      heads[i] = entries++;
    }

    private void rehash() {
      long[] oldKeys = keys;
      int[] oldHeads = heads;
      keys = new long[oldKeys.length * 2];
      heads = new int[oldKeys.length * 2];
      Arrays.fill(heads, -1);
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldHeads[i] >= 0) {
          int s = slotOf(oldKeys[i]);
          keys[s] = oldKeys[i];
          heads[s] = oldHeads[i];
        }
      }
    }
  }

  private static int linear(
      int[] cand, int from, int len, Boxes bx, float t, int limit, int[] out) {
    int kept = 0;
    for (int p = from; p < from + len; p++) {
      int j = cand[p];
      boolean suppressed = false;
      for (int q = 0; q < kept; q++) {
        if (bx.suppresses(out[q], j, t)) {
          suppressed = true;
          break;
        }
      }
      if (!suppressed) {
        out[kept++] = j;
        if (kept == limit) {
          break;
        }
      }
    }
    return kept;
  }
}
