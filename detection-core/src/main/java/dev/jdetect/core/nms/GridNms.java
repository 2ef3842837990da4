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
   * @param t threshold: suppress when IoU {@code > t}
   * @param topK maximum kept
   * @param single whether the boxes are float32: IoU is then computed in float32 arithmetic, as
   *     torchvision's kernel does for float32 boxes; otherwise in double precision
   * @return kept original indices in (score desc, index asc) order
   */
  static long[] run(double[] b, double[] s, long[] groups, double t, int topK, boolean single) {
    int n = s.length;
    double[] x1 = new double[n];
    double[] y1 = new double[n];
    double[] x2 = new double[n];
    double[] y2 = new double[n];
    double[] area = new double[n];
    for (int i = 0; i < n; i++) {
      x1[i] = b[4 * i];
      y1[i] = b[4 * i + 1];
      x2[i] = b[4 * i + 2];
      y2[i] = b[4 * i + 3];
      area[i] = round(round(x2[i] - x1[i], single) * round(y2[i] - y1[i], single), single);
    }
    int[] order = sortedOrder(s);
    Boxes bx = new Boxes(x1, y1, x2, y2, area, single);
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

  /**
   * Rounds a double-precision result to float32 in single-precision mode. Each float32 operation
   * ({@code +, -, *, /}) done in double and rounded once to float gives the float32 result exactly
   * (a double carries more than 2 * 24 + 2 significant bits), so one code path serves both.
   */
  static double round(double v, boolean single) {
    return single ? (float) v : v;
  }

  /** Indices sorted by descending score, ties by ascending index (-0.0 equals 0.0). */
  static int[] sortedOrder(double[] s) {
    int n = s.length;
    long[] sortable = new long[n];
    for (int i = 0; i < n; i++) {
      long bits = Double.doubleToLongBits(s[i] + 0.0); // -0.0 -> +0.0
      sortable[i] = bits < 0 ? bits ^ Long.MAX_VALUE : bits; // signed order == double order
    }
    // Dense ranks of the values, then one primitive sort on (rank, index).
    long[] distinct = sortable.clone();
    Arrays.sort(distinct);
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      int rank = Arrays.binarySearch(distinct, sortable[i]); // equal values, equal rank
      keys[i] = ((long) ~rank << 32) | i; // ~ reverses the order: descending scores
    }
    Arrays.sort(keys);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = (int) keys[i];
    }
    return order;
  }

  /** Column-wise boxes and their areas, in the boxes' precision. */
  private static final class Boxes {
    final double[] x1;
    final double[] y1;
    final double[] x2;
    final double[] y2;
    final double[] area;
    final boolean single;

    Boxes(double[] x1, double[] y1, double[] x2, double[] y2, double[] area, boolean single) {
      this.x1 = x1;
      this.y1 = y1;
      this.x2 = x2;
      this.y2 = y2;
      this.area = area;
      this.single = single;
    }

    /** True iff kept box {@code k} suppresses box {@code j}: torchvision's IoU > t. */
    boolean suppresses(int k, int j, double t) {
      return overlaps(
          x1[k], y1[k], x2[k], y2[k], area[k], x1[j], y1[j], x2[j], y2[j], area[j], t, single);
    }
  }

  /**
   * torchvision's suppression test {@code inter / (areaKept + areaCand - inter) > t}, in float32
   * arithmetic when {@code single} and in double precision otherwise.
   */
  static boolean overlaps(
      double kx1,
      double ky1,
      double kx2,
      double ky2,
      double ka,
      double jx1,
      double jy1,
      double jx2,
      double jy2,
      double ja,
      double t,
      boolean single) {
    double w = Math.max(0, round(Math.min(kx2, jx2) - Math.max(kx1, jx1), single));
    double h = Math.max(0, round(Math.min(ky2, jy2) - Math.max(ky1, jy1), single));
    double inter = round(w * h, single);
    return round(inter / round(round(ka + ja, single) - inter, single), single) > t;
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
  private static int greedy(
      int[] cand, int from, int len, Boxes bx, double t, int topK, int[] out) {
    int limit = Math.min(len, topK);
    if (limit == 0) {
      return 0;
    }
    if (t < 0 || len <= SMALL) {
      return linear(cand, from, len, bx, t, limit, out);
    }
    double[] x1 = bx.x1;
    double[] y1 = bx.y1;
    double[] x2 = bx.x2;
    double[] y2 = bx.y2;
    double[] area = bx.area;
    boolean single = bx.single;
    // size ratio sqrt(min/max area) must exceed sqrt(t); widen a little for float rounding
    double ratio = Math.sqrt(t) * (1 - 1e-3);
    SizeGrid grid = new SizeGrid(limit);
    int[] big = new int[16];
    int bigCount = 0;
    int kept = 0;
    // kept boxes by slot, contiguous for locality: x1, y1, x2, y2, area
    double[] kb = new double[5 * limit];
    // stamp[q] == p: kept box q was already tested against candidate p (it spans several cells)
    int[] stamp = new int[limit];
    Arrays.fill(stamp, -1);

    for (int p = from; p < from + len; p++) {
      int j = cand[p];
      double jx1 = x1[j];
      double jy1 = y1[j];
      double jx2 = x2[j];
      double jy2 = y2[j];
      double aj = area[j];
      boolean suppressed = false;
      int cls = 0;
      if (aj > 0) {
        double size = Math.sqrt(aj);
        cls = Math.getExponent(size);
        for (int q = 0; q < bigCount && !suppressed; q++) {
          suppressed = hit(kb, big[q], jx1, jy1, jx2, jy2, aj, t, single);
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
                if (hit(kb, q, jx1, jy1, jx2, jy2, aj, t, single)) {
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
                if (hit(kb, q, jx1, jy1, jx2, jy2, aj, t, single)) {
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

  /** True iff kept slot {@code q} suppresses the candidate (see {@link #overlaps}). */
  private static boolean hit(
      double[] kb,
      int q,
      double jx1,
      double jy1,
      double jx2,
      double jy2,
      double aj,
      double t,
      boolean single) {
    int o = 5 * q;
    return overlaps(
        kb[o], kb[o + 1], kb[o + 2], kb[o + 3], kb[o + 4], jx1, jy1, jx2, jy2, aj, t, single);
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
    static int cell(double v, double inv) {
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
      int[] cand, int from, int len, Boxes bx, double t, int limit, int[] out) {
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
