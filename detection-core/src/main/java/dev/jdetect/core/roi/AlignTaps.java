package dev.jdetect.core.roi;

import java.util.Arrays;

/**
 * The per-axis half of RoIAlign's bilinear sampling. torchvision's weight of a sample at (y, x) on
 * pixel (r, c) is {@code wy(r) * wx(c)} and a sample is dropped when y or x is out of range, so
 * every output bin is {@code sum_r sum_c Wy[bin_y][r] * Wx[bin_x][c] * F[r][c]} with {@code Wy =
 * (sum over the bin's y samples of the 1-D bilinear weights) / grid_h} (same for x). This class
 * holds those sparse rows ("taps": pixel index and weight, duplicates merged) for one axis of every
 * RoI, in CSR layout: bin {@code b} of RoI {@code k} owns entries {@code offsets[k * bins + b] ..
 * offsets[k * bins + b + 1]}.
 */
final class AlignTaps {

  final int bins;
  final int[] offsets;
  final int[] index;
  final float[] weight;

  private AlignTaps(int bins, int[] offsets, int[] index, float[] weight) {
    this.bins = bins;
    this.offsets = offsets;
    this.index = index;
    this.weight = weight;
  }

  /** Largest number of taps in one bin of RoIs {@code from .. to-1}. */
  int maxTaps(int from, int to) {
    int m = 0;
    for (int i = from * bins; i < to * bins; i++) {
      m = Math.max(m, offsets[i + 1] - offsets[i]);
    }
    return m;
  }

  /**
   * Computes {y taps, x taps} for {@code k} RoIs given as (batch, x1, y1, x2, y2) rows, following
   * torchvision's float32 RoIAlign arithmetic.
   */
  static AlignTaps[] compute(
      float[] rois,
      int k,
      int outH,
      int outW,
      int height,
      int width,
      float spatialScale,
      int samplingRatio,
      boolean aligned) {
    Builder by = new Builder(k * outH, k * outH * 4);
    Builder bx = new Builder(k * outW, k * outW * 4);
    float offset = aligned ? 0.5f : 0f;
    for (int i = 0; i < k; i++) {
      float startW = rois[5 * i + 1] * spatialScale - offset;
      float startH = rois[5 * i + 2] * spatialScale - offset;
      float endW = rois[5 * i + 3] * spatialScale - offset;
      float endH = rois[5 * i + 4] * spatialScale - offset;
      float roiW = endW - startW;
      float roiH = endH - startH;
      if (!aligned) {
        roiW = Math.max(roiW, 1f);
        roiH = Math.max(roiH, 1f);
      }
      float binH = roiH / outH;
      float binW = roiW / outW;
      int gridH = samplingRatio > 0 ? samplingRatio : (int) Math.ceil(roiH / outH);
      int gridW = samplingRatio > 0 ? samplingRatio : (int) Math.ceil(roiW / outW);
      axis(by, startH, binH, gridH, outH, height);
      axis(bx, startW, binW, gridW, outW, width);
    }
    return new AlignTaps[] {by.build(outH), bx.build(outW)};
  }

  private static void axis(Builder b, float start, float bin, int grid, int bins, int len) {
    for (int p = 0; p < bins; p++) {
      int first = b.size;
      for (int s = 0; s < grid; s++) {
        float v = start + p * bin + (s + .5f) * bin / grid;
        if (v < -1.0f || v > len) {
          continue; // out of the map: the whole sample is dropped
        }
        if (v <= 0) {
          v = 0;
        }
        int lo = (int) v;
        int hi;
        if (lo >= len - 1) {
          lo = len - 1;
          hi = lo;
          v = lo;
        } else {
          hi = lo + 1;
        }
        float l = v - lo;
        float h = 1f - l;
        b.add(first, lo, h);
        b.add(first, hi, l);
      }
      if (grid > 0) {
        for (int e = first; e < b.size; e++) {
          b.weight[e] /= grid;
        }
      }
      b.endBin();
    }
  }

  private static final class Builder {
    int[] offsets;
    int[] index;
    float[] weight;
    int size;
    int binCount;

    Builder(int totalBins, int capacity) {
      offsets = new int[totalBins + 1];
      index = new int[Math.max(16, capacity)];
      weight = new float[index.length];
    }

    /** Adds weight {@code w} at pixel {@code idx}, merging with a tap of this bin if present. */
    void add(int binStart, int idx, float w) {
      for (int e = binStart; e < size; e++) {
        if (index[e] == idx) {
          weight[e] += w;
          return;
        }
      }
      if (size == index.length) {
        index = Arrays.copyOf(index, size * 2);
        weight = Arrays.copyOf(weight, size * 2);
      }
      index[size] = idx;
      weight[size] = w;
      size++;
    }

    void endBin() {
      offsets[++binCount] = size;
    }

    AlignTaps build(int bins) {
      return new AlignTaps(bins, offsets, index, weight);
    }
  }
}
