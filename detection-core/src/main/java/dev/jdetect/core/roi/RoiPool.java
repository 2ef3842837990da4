package dev.jdetect.core.roi;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.Autograd;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * RoI max pooling (Fast R-CNN) with torchvision's {@code roi_pool} semantics: RoI corners are
 * scaled and rounded half away from zero, the RoI is at least 1x1, bin {@code p} spans {@code
 * [floor(p * bin), ceil((p + 1) * bin))} offset by the RoI start and clipped to the map, an empty
 * bin yields 0, a non-empty bin starts its maximum at {@code -Float.MAX_VALUE} (so a bin of only
 * {@code -Infinity} or NaN yields {@code -Float.MAX_VALUE}), NaN features are skipped, and ties
 * keep the first maximum in row-major order.
 *
 * <p>The features are copied once into a channels-last Java array (N, H, W, C); each bin's maximum
 * is then a running maximum over contiguous channels, computed in parallel over chunks of RoIs.
 *
 * <ul>
 *   <li>Without a gradient, the maxima are written straight into the output tensor, which is moved
 *       to the features' device. The only difference from torchvision: a maximum of zero may come
 *       back as {@code +0.0} where torchvision keeps a {@code -0.0} seen first (they compare
 *       equal).
 *   <li>When the features may need a gradient ({@link Autograd#mayNeedGradient}), the arg-max
 *       position of every (RoI, channel, bin) is searched instead and the output is gathered from
 *       the features at those positions, so PyTorch autograd routes the gradient to the arg-max
 *       pixel of each bin exactly like torchvision's backward (and the values are bit-identical to
 *       torchvision's).
 * </ul>
 */
public final class RoiPool {

  /** Output elements per part: each part is one tensor filled through a direct buffer. */
  private static final long DEFAULT_PART_ELEMENTS = 1L << 27;

  /** Below this many output elements the RoIs are pooled on the calling thread. */
  private static final long PARALLEL_THRESHOLD = 1L << 16;

  private final int outputHeight;
  private final int outputWidth;
  private final float spatialScale;
  private final long partElements;

  private RoiPool(Builder b) {
    this.outputHeight = b.outputHeight;
    this.outputWidth = b.outputWidth;
    this.spatialScale = b.spatialScale;
    this.partElements = b.partElements;
  }

  /**
   * Returns a builder (defaults: 7x7 output, spatial scale 1).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Max-pools every RoI.
   *
   * @param features (N, C, H, W) float32 feature maps
   * @param rois (K, 5) RoIs {@code (batchIndex, x1, y1, x2, y2)} in input-image coordinates
   * @return (K, C, outputHeight, outputWidth) on the features' device and manager
   */
  public NDArray apply(NDArray features, NDArray rois) {
    Rois.checkFeatures(features, "features");
    Shape fs = features.getShape();
    long n = fs.get(0);
    float[] r = Rois.check(rois, n);
    int k = r.length / 5;
    int c = Math.toIntExact(fs.get(1));
    int h = Math.toIntExact(fs.get(2));
    int w = Math.toIntExact(fs.get(3));
    NDManager manager = features.getManager();
    if (k == 0 || c == 0) {
      return manager.zeros(new Shape(k, c, outputHeight, outputWidth), DataType.FLOAT32);
    }
    if (fs.size() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("features too large for RoiPool, shape " + fs);
    }
    float[] f;
    try (NDManager sub = manager.newSubManager()) {
      features.tempAttach(sub);
      f = features.transpose(0, 2, 3, 1).toFloatArray(); // (N, H, W, C)
    }
    Geometry g = new Geometry(f, r, c, h, w, outputHeight, outputWidth, spatialScale);
    return Autograd.mayNeedGradient(features) ? gather(features, g, k) : pool(manager, g, k);
  }

  /**
   * Max-pools boxes given per image (image {@code i} is batch index {@code i}).
   *
   * @param features (N, C, H, W) float32 feature maps
   * @param boxesPerImage N arrays of (K_i, 4) boxes in input-image coordinates
   * @return (sum K_i, C, outputHeight, outputWidth)
   */
  public NDArray apply(NDArray features, List<NDArray> boxesPerImage) {
    return Rois.applyToBoxes(features, boxesPerImage, this::apply);
  }

  /** No gradient: Java maxima written straight into CPU output tensors (one per part). */
  private NDArray pool(NDManager manager, Geometry g, int k) {
    int perRoi = g.perRoi();
    int roisPerPart = (int) Math.max(1, Math.min(k, partElements / perRoi));
    NDList parts = new NDList();
    try (NDManager sub = manager.newSubManager(Device.cpu())) {
      for (int k0 = 0; k0 < k; k0 += roisPerPart) {
        int k1 = Math.min(k, k0 + roisPerPart);
        NDArray part = sub.create(new Shape(k1 - k0, g.c, g.oh, g.ow), DataType.FLOAT32);
        FloatBuffer out = part.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        int from0 = k0;
        forChunks(
            k0,
            k1,
            perRoi,
            (from, to) -> {
              float[] max = new float[g.c];
              float[] pixel = new float[g.c];
              float[] res = new float[perRoi]; // (C, oh, ow)
              int[] bounds = g.newBounds();
              FloatBuffer view = out.duplicate();
              for (int roi = from; roi < to; roi++) {
                g.maxima(roi, bounds, max, pixel, res);
                view.put((roi - from0) * perRoi, res);
              }
            });
        parts.add(part);
      }
      NDArray result = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
      if (!manager.getDevice().equals(Device.cpu())) {
        result = result.toDevice(manager.getDevice(), false);
      }
      result.attach(manager);
      return result;
    }
  }

  /** With a gradient: arg-max indices from Java, values gathered from the features (autograd). */
  private NDArray gather(NDArray features, Geometry g, int k) {
    NDManager manager = features.getManager();
    int perRoi = g.perRoi();
    long total = features.getShape().size();
    long emptySlot = total; // holds 0 in the gather source
    long floorSlot = total + 1; // holds -FLT_MAX in the gather source
    int roisPerPart = (int) Math.max(1, Math.min(k, partElements / perRoi));
    try (NDManager sub = manager.newSubManager()) {
      features.tempAttach(sub);
      NDArray extra = sub.create(new float[] {0f, -Float.MAX_VALUE});
      NDArray source = features.reshape(-1).concat(extra, 0);
      NDList parts = new NDList();
      try (NDManager cpu = sub.newSubManager(Device.cpu())) {
        for (int k0 = 0; k0 < k; k0 += roisPerPart) {
          int k1 = Math.min(k, k0 + roisPerPart);
          NDArray idx = cpu.create(new Shape((long) (k1 - k0) * perRoi), DataType.INT64);
          LongBuffer out = idx.toByteBuffer(true).order(ByteOrder.nativeOrder()).asLongBuffer();
          int from0 = k0;
          forChunks(
              k0,
              k1,
              perRoi,
              (from, to) -> {
                float[] best = new float[g.c];
                int[] at = new int[g.c];
                long[] res = new long[perRoi]; // (C, oh, ow)
                int[] bounds = g.newBounds();
                LongBuffer view = out.duplicate();
                for (int roi = from; roi < to; roi++) {
                  g.argMaxima(roi, bounds, best, at, res, emptySlot, floorSlot);
                  view.put((roi - from0) * perRoi, res);
                }
              });
          NDArray gathered = source.get(idx.toDevice(source.getDevice(), false));
          gathered = gathered.reshape(k1 - k0, g.c, g.oh, g.ow);
          gathered.attach(sub);
          parts.add(gathered);
        }
      }
      NDArray result = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
      result.attach(manager);
      return result;
    }
  }

  /** Work on the RoIs {@code [from, to)} of one chunk. */
  private interface ChunkTask {
    void run(int from, int to);
  }

  /** Splits RoIs {@code [k0, k1)} into chunks run in parallel (one chunk if the work is small). */
  private static void forChunks(int k0, int k1, int perRoi, ChunkTask task) {
    int count = k1 - k0;
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    int chunks = (long) count * perRoi < PARALLEL_THRESHOLD ? 1 : Math.min(count, threads * 4);
    if (chunks == 1) {
      task.run(k0, k1);
      return;
    }
    IntStream.range(0, chunks)
        .parallel()
        .forEach(
            chunk ->
                task.run(
                    k0 + (int) ((long) count * chunk / chunks),
                    k0 + (int) ((long) count * (chunk + 1) / chunks)));
  }

  /** C's {@code round} on a float: halves go away from zero. */
  static int roundHalfAway(float v) {
    double d = v;
    return (int) (d >= 0 ? Math.floor(d + 0.5) : -Math.floor(-d + 0.5));
  }

  /** The channels-last features, the RoIs and the pooling geometry; read-only, shared by chunks. */
  private static final class Geometry {
    final float[] f; // (N, H, W, C)
    final float[] rois;
    final int c;
    final int h;
    final int w;
    final int oh;
    final int ow;
    final float scale;

    Geometry(float[] f, float[] rois, int c, int h, int w, int oh, int ow, float scale) {
      this.f = f;
      this.rois = rois;
      this.c = c;
      this.h = h;
      this.w = w;
      this.oh = oh;
      this.ow = ow;
      this.scale = scale;
    }

    int perRoi() {
      return Math.multiplyExact(c, Math.multiplyExact(oh, ow));
    }

    /** Scratch for {@link #bounds}: row starts, row ends, column starts, column ends. */
    int[] newBounds() {
      return new int[2 * oh + 2 * ow];
    }

    /**
     * Fills {@code b} with the clipped bins of one RoI: rows {@code [b[ph], b[oh + ph])}, columns
     * {@code [b[2oh + pw], b[2oh + ow + pw])}; returns the RoI's batch index.
     */
    int bounds(int roi, int[] b) {
      int startW = roundHalfAway(rois[5 * roi + 1] * scale);
      int startH = roundHalfAway(rois[5 * roi + 2] * scale);
      int endW = roundHalfAway(rois[5 * roi + 3] * scale);
      int endH = roundHalfAway(rois[5 * roi + 4] * scale);
      int roiW = Math.max(endW - startW + 1, 1);
      int roiH = Math.max(endH - startH + 1, 1);
      float binH = (float) roiH / (float) oh;
      float binW = (float) roiW / (float) ow;
      for (int ph = 0; ph < oh; ph++) {
        int hs = (int) Math.floor((float) ph * binH);
        int he = (int) Math.ceil((float) (ph + 1) * binH);
        b[ph] = Math.min(Math.max(hs + startH, 0), h);
        b[oh + ph] = Math.min(Math.max(he + startH, 0), h);
      }
      int x0 = 2 * oh;
      for (int pw = 0; pw < ow; pw++) {
        int ws = (int) Math.floor((float) pw * binW);
        int we = (int) Math.ceil((float) (pw + 1) * binW);
        b[x0 + pw] = Math.min(Math.max(ws + startW, 0), w);
        b[x0 + ow + pw] = Math.min(Math.max(we + startW, 0), w);
      }
      return (int) rois[5 * roi];
    }

    /**
     * Pools one RoI into {@code res} (C, oh, ow): per bin a running {@link Math#max} over the
     * contiguous channels of each pixel, then a scalar redo (skipping NaN like torchvision) for the
     * rare maxima that came out NaN. {@code max} and {@code pixel} are scratch of length C.
     */
    void maxima(int roi, int[] b, float[] max, float[] pixel, float[] res) {
      int batch = bounds(roi, b);
      int x0 = 2 * oh;
      int bins = oh * ow;
      for (int ph = 0; ph < oh; ph++) {
        int hs = b[ph];
        int he = b[oh + ph];
        for (int pw = 0; pw < ow; pw++) {
          int ws = b[x0 + pw];
          int we = b[x0 + ow + pw];
          int bin = ph * ow + pw;
          if (he <= hs || we <= ws) {
            for (int ch = 0; ch < c; ch++) {
              res[ch * bins + bin] = 0f;
            }
            continue;
          }
          Arrays.fill(max, -Float.MAX_VALUE);
          for (int y = hs; y < he; y++) {
            int row = (batch * h + y) * w;
            for (int x = ws; x < we; x++) {
              // C2 (JDK 17) vectorises the max loop only when both arrays share the index
              System.arraycopy(f, (row + x) * c, pixel, 0, c);
              maxInto(max, pixel, c);
            }
          }
          for (int ch = 0; ch < c; ch++) {
            float m = max[ch];
            if (m != m) {
              m = maxSkippingNan(batch, ch, hs, he, ws, we);
            }
            res[ch * bins + bin] = m;
          }
        }
      }
    }

    /** {@code max[i] = Math.max(max[i], v[i])}; one index for both arrays, so C2 vectorises it. */
    private static void maxInto(float[] max, float[] v, int len) {
      for (int i = 0; i < len; i++) {
        max[i] = Math.max(max[i], v[i]);
      }
    }

    /** torchvision's scalar max of one channel over a non-empty bin: {@code >} from -FLT_MAX. */
    private float maxSkippingNan(int batch, int ch, int hs, int he, int ws, int we) {
      float max = -Float.MAX_VALUE;
      for (int y = hs; y < he; y++) {
        for (int x = ws; x < we; x++) {
          float v = f[((batch * h + y) * w + x) * c + ch];
          if (v > max) {
            max = v;
          }
        }
      }
      return max;
    }

    /**
     * Writes into {@code res} (C, oh, ow) the flat NCHW index of the first maximum (row-major, by
     * {@code >} from the bin's start value) of every channel and bin of one RoI; {@code emptySlot}
     * for an empty bin, {@code floorSlot} for a bin without a value above {@code -FLT_MAX}.
     */
    void argMaxima(
        int roi, int[] b, float[] best, int[] at, long[] res, long emptySlot, long floorSlot) {
      int batch = bounds(roi, b);
      int x0 = 2 * oh;
      int bins = oh * ow;
      long plane = (long) h * w;
      long batchBase = (long) batch * c * plane;
      for (int ph = 0; ph < oh; ph++) {
        int hs = b[ph];
        int he = b[oh + ph];
        for (int pw = 0; pw < ow; pw++) {
          int ws = b[x0 + pw];
          int we = b[x0 + ow + pw];
          int bin = ph * ow + pw;
          boolean empty = he <= hs || we <= ws;
          Arrays.fill(best, empty ? 0f : -Float.MAX_VALUE);
          Arrays.fill(at, -1);
          for (int y = hs; y < he; y++) {
            int row = (batch * h + y) * w;
            for (int x = ws; x < we; x++) {
              int src = (row + x) * c;
              int pixel = y * w + x;
              for (int ch = 0; ch < c; ch++) {
                float v = f[src + ch];
                if (v > best[ch]) {
                  best[ch] = v;
                  at[ch] = pixel;
                }
              }
            }
          }
          long missing = empty ? emptySlot : floorSlot;
          for (int ch = 0; ch < c; ch++) {
            res[ch * bins + bin] = at[ch] >= 0 ? batchBase + ch * plane + at[ch] : missing;
          }
        }
      }
    }
  }

  /** Builder for {@link RoiPool}. */
  public static final class Builder {
    private int outputHeight = 7;
    private int outputWidth = 7;
    private float spatialScale = 1f;
    private long partElements = DEFAULT_PART_ELEMENTS;

    private Builder() {}

    /** Test hook: a small value forces the output to be built from several parts. */
    Builder optPartElements(long partElements) {
      if (partElements < 1) {
        throw new IllegalArgumentException("partElements must be >= 1, got " + partElements);
      }
      this.partElements = partElements;
      return this;
    }

    /**
     * Sets the output size (default 7x7).
     *
     * @param height output height, {@code >= 1}
     * @param width output width, {@code >= 1}
     * @return this builder
     */
    public Builder optOutputSize(int height, int width) {
      Rois.checkOutputSize(height, width);
      this.outputHeight = height;
      this.outputWidth = width;
      return this;
    }

    /**
     * Sets the factor mapping RoI coordinates to feature coordinates (default 1).
     *
     * @param spatialScale a finite positive scale
     * @return this builder
     */
    public Builder optSpatialScale(float spatialScale) {
      Rois.checkSpatialScale(spatialScale);
      this.spatialScale = spatialScale;
      return this;
    }

    /**
     * Builds the op.
     *
     * @return a new {@link RoiPool}
     */
    public RoiPool build() {
      return new RoiPool(this);
    }
  }
}
