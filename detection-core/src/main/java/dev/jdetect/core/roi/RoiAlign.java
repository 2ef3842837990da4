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
import java.util.List;
import java.util.stream.IntStream;

/**
 * RoIAlign (Mask R-CNN) with torchvision's {@code roi_align} semantics: output size, spatial scale,
 * sampling ratio (a fixed grid per bin, or adaptive {@code ceil(roi_size / output_size)} when
 * {@code <= 0}) and the {@code aligned} half-pixel shift. Differentiable with respect to the
 * features.
 *
 * <p>RoIAlign is separable: the bilinear weights and torchvision's out-of-range rule factor into a
 * y part and an x part, so each output bin is a small weighted sum over the pixels of a few rows
 * and columns. The per-axis weights ("taps") are computed once per RoI from a Java copy of the
 * (small) RoI array, then applied by one of two implementations:
 *
 * <ul>
 *   <li>{@link Backend#JAVA} (inference on CPU): pulls the features into a Java array once
 *       (channels last), sums the taps with a contiguous inner loop over channels, in parallel over
 *       RoIs, and writes straight into the output tensor. No autograd.
 *   <li>{@link Backend#NDARRAY} (training, or any device): writes the taps of every output bin into
 *       a sparse (bins x pixels) sampling matrix and multiplies it with the features laid out as
 *       (pixels x channels), a sparse-dense matmul on the features' device (chunks of RoIs bound
 *       its size). PyTorch autograd supplies the gradient w.r.t. the features (the transposed
 *       sparse product); runs on CUDA too.
 * </ul>
 *
 * <p>{@link Backend#AUTO} uses {@code NDARRAY} when the features may need a gradient ({@link
 * Autograd#mayNeedGradient}: parameters, or any op's output inside a {@code GradientCollector}) or
 * are not on the CPU, else {@code JAVA}. Both return the same values (up to float rounding, ~1e-6).
 *
 * <p>Bad input (features not (N, C, H, W) float32, RoIs not (K, 5), non-finite coordinates, {@code
 * x2 < x1}, a batch index outside [0, N)) throws {@link IllegalArgumentException}. Zero RoIs give a
 * (0, C, outH, outW) result.
 */
public final class RoiAlign {

  /** Which implementation computes the output. */
  public enum Backend {
    /** {@link #NDARRAY} if the features need a gradient or live off the CPU, else {@link #JAVA}. */
    AUTO,
    /** Java arrays, multi-threaded over RoIs; no gradient. */
    JAVA,
    /** Sparse sampling matrix times the features on their device; differentiable. */
    NDARRAY
  }

  private final int outputHeight;
  private final int outputWidth;
  private final float spatialScale;
  private final int samplingRatio;
  private final boolean aligned;
  private final Backend backend;
  private final long sparseBudget;

  private RoiAlign(Builder b) {
    this.outputHeight = b.outputHeight;
    this.outputWidth = b.outputWidth;
    this.spatialScale = b.spatialScale;
    this.samplingRatio = b.samplingRatio;
    this.aligned = b.aligned;
    this.backend = b.backend;
    this.sparseBudget = b.sparseBudget;
  }

  /**
   * Returns a builder with torchvision's defaults (7x7, scale 1, sampling ratio -1 (adaptive), not
   * aligned, {@link Backend#AUTO}).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Pools every RoI.
   *
   * @param features (N, C, H, W) float32 feature maps
   * @param rois (K, 5) RoIs {@code (batchIndex, x1, y1, x2, y2)} in input-image coordinates
   *     (multiplied by the spatial scale to reach feature coordinates)
   * @return (K, C, outputHeight, outputWidth) on the features' device and manager
   */
  public NDArray apply(NDArray features, NDArray rois) {
    Rois.checkFeatures(features, "features");
    long n = features.getShape().get(0);
    float[] r = Rois.check(rois, n);
    int k = r.length / 5;
    Backend chosen = backend;
    if (chosen == Backend.AUTO) {
      boolean cpu = features.getDevice().equals(Device.cpu());
      chosen = Autograd.mayNeedGradient(features) || !cpu ? Backend.NDARRAY : Backend.JAVA;
    }
    Shape fs = features.getShape();
    int height = Math.toIntExact(fs.get(2));
    int width = Math.toIntExact(fs.get(3));
    AlignTaps[] taps =
        AlignTaps.compute(
            r, k, outputHeight, outputWidth, height, width, spatialScale, samplingRatio, aligned);
    // a Java float[] holds < 2^31 elements; larger maps take the NDArray path
    if (chosen == Backend.JAVA && fs.size() < Integer.MAX_VALUE - 8) {
      return forwardJava(features, r, k, taps[0], taps[1]);
    }
    return forwardNd(features, r, k, taps[0], taps[1]);
  }

  /**
   * Pools boxes given per image (image {@code i} is batch index {@code i}).
   *
   * @param features (N, C, H, W) float32 feature maps
   * @param boxesPerImage N arrays of (K_i, 4) boxes in input-image coordinates
   * @return (sum K_i, C, outputHeight, outputWidth)
   */
  public NDArray apply(NDArray features, List<NDArray> boxesPerImage) {
    return Rois.applyToBoxes(features, boxesPerImage, this::apply);
  }

  private NDArray forwardJava(NDArray features, float[] rois, int k, AlignTaps ty, AlignTaps tx) {
    NDManager manager = features.getManager();
    Shape fs = features.getShape();
    int c = Math.toIntExact(fs.get(1));
    int h = Math.toIntExact(fs.get(2));
    int w = Math.toIntExact(fs.get(3));
    int oh = outputHeight;
    int ow = outputWidth;
    int perRoi = c * oh * ow;
    if (k == 0 || perRoi == 0) {
      return manager.zeros(new Shape(k, c, oh, ow), DataType.FLOAT32);
    }
    float[] f;
    try (NDManager sub = manager.newSubManager()) {
      features.tempAttach(sub);
      f = features.transpose(0, 2, 3, 1).toFloatArray(); // (N, H, W, C)
    }
    // Output tensors of at most ~1 GiB each (a ByteBuffer holds < 2 GiB).
    int roisPerPart = (int) Math.max(1, Math.min(k, (1L << 28) / perRoi));
    NDList parts = new NDList();
    try (NDManager sub = manager.newSubManager(Device.cpu())) {
      for (int k0 = 0; k0 < k; k0 += roisPerPart) {
        int k1 = Math.min(k, k0 + roisPerPart);
        NDArray part = sub.create(new Shape(k1 - k0, c, oh, ow), DataType.FLOAT32);
        FloatBuffer out = part.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        fillJava(f, rois, k0, k1, c, h, w, ty, tx, out);
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

  private void fillJava(
      float[] f,
      float[] rois,
      int k0,
      int k1,
      int c,
      int h,
      int w,
      AlignTaps ty,
      AlignTaps tx,
      FloatBuffer out) {
    int oh = outputHeight;
    int ow = outputWidth;
    int perRoi = c * oh * ow;
    int count = k1 - k0;
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    int chunks = count * perRoi < (1 << 16) ? 1 : Math.min(count, threads * 4);
    IntStream stream = IntStream.range(0, chunks);
    if (chunks > 1) {
      stream = stream.parallel();
    }
    stream.forEach(
        chunk -> {
          int from = k0 + (int) ((long) count * chunk / chunks);
          int to = k0 + (int) ((long) count * (chunk + 1) / chunks);
          float[] acc = new float[perRoi];
          float[] res = new float[perRoi];
          FloatBuffer view = out.duplicate();
          for (int roi = from; roi < to; roi++) {
            java.util.Arrays.fill(acc, 0f);
            int batch = (int) rois[5 * roi];
            int plane = batch * h;
            for (int ph = 0; ph < oh; ph++) {
              int yb = roi * oh + ph;
              for (int ey = ty.offsets[yb]; ey < ty.offsets[yb + 1]; ey++) {
                float wy = ty.weight[ey];
                if (wy == 0f) {
                  continue;
                }
                int rowBase = (plane + ty.index[ey]) * w;
                for (int pw = 0; pw < ow; pw++) {
                  int xb = roi * ow + pw;
                  int dst = (ph * ow + pw) * c;
                  for (int ex = tx.offsets[xb]; ex < tx.offsets[xb + 1]; ex++) {
                    float wt = wy * tx.weight[ex];
                    if (wt == 0f) {
                      continue;
                    }
                    int src = (rowBase + tx.index[ex]) * c;
                    for (int ch = 0; ch < c; ch++) {
                      acc[dst + ch] += wt * f[src + ch];
                    }
                  }
                }
              }
            }
            int bins = oh * ow;
            for (int bin = 0; bin < bins; bin++) {
              int srcBase = bin * c;
              for (int ch = 0; ch < c; ch++) {
                res[ch * bins + bin] = acc[srcBase + ch];
              }
            }
            view.put((roi - k0) * perRoi, res);
          }
        });
  }

  private NDArray forwardNd(NDArray features, float[] rois, int k, AlignTaps ty, AlignTaps tx) {
    NDManager manager = features.getManager();
    Shape fs = features.getShape();
    long n = fs.get(0);
    int c = Math.toIntExact(fs.get(1));
    int h = Math.toIntExact(fs.get(2));
    int w = Math.toIntExact(fs.get(3));
    int oh = outputHeight;
    int ow = outputWidth;
    try (NDManager sub = manager.newSubManager()) {
      features.tempAttach(sub);
      if (k == 0 || c == 0) {
        NDArray empty = sub.zeros(new Shape(k, c, oh, ow), DataType.FLOAT32);
        empty.attach(manager);
        return empty;
      }
      // (N*H*W, C): one row per pixel, so a bin is a sparse row of pixel weights
      NDArray pixels = features.transpose(0, 2, 3, 1).reshape(n * h * w, c);
      NDList parts = new NDList();
      int k0 = 0;
      while (k0 < k) {
        // RoIs [k0, k1) whose entries fit the budget (at least one RoI)
        long nnz = 0;
        int k1 = k0;
        while (k1 < k) {
          long roiNnz = 0;
          for (int ph = 0; ph < oh; ph++) {
            int yb = k1 * oh + ph;
            int ny = ty.offsets[yb + 1] - ty.offsets[yb];
            for (int pw = 0; pw < ow; pw++) {
              int xb = k1 * ow + pw;
              roiNnz += (long) ny * (tx.offsets[xb + 1] - tx.offsets[xb]);
            }
          }
          if (k1 > k0 && nnz + roiNnz > sparseBudget) {
            break;
          }
          nnz += roiNnz;
          k1++;
        }
        int size = (int) Math.max(1, nnz); // one explicit zero keeps the graph connected
        long[][] index = new long[2][size];
        float[] weight = new float[size];
        int e = 0;
        for (int roi = k0; roi < k1; roi++) {
          long plane = (long) rois[5 * roi] * h;
          for (int ph = 0; ph < oh; ph++) {
            int yb = roi * oh + ph;
            for (int pw = 0; pw < ow; pw++) {
              int xb = roi * ow + pw;
              long bin = ((long) (roi - k0) * oh + ph) * ow + pw;
              for (int ey = ty.offsets[yb]; ey < ty.offsets[yb + 1]; ey++) {
                long rowBase = (plane + ty.index[ey]) * w;
                for (int ex = tx.offsets[xb]; ex < tx.offsets[xb + 1]; ex++) {
                  index[0][e] = bin;
                  index[1][e] = rowBase + tx.index[ex];
                  weight[e] = ty.weight[ey] * tx.weight[ex];
                  e++;
                }
              }
            }
          }
        }
        long bins = (long) (k1 - k0) * oh * ow;
        // The backward pass reads the sampling matrix, and createCoo's tensor aliases Java-side
        // buffers that die with their wrappers (closed inside createCoo): use an owned clone.
        NDArray sampling;
        try (NDArray view =
            sub.createCoo(FloatBuffer.wrap(weight), index, new Shape(bins, n * h * w))) {
          sampling = view.duplicate();
        }
        NDArray pooled = sampling.matMul(pixels); // (bins, C), differentiable w.r.t. pixels
        parts.add(pooled.reshape(k1 - k0, oh, ow, c).transpose(0, 3, 1, 2));
        k0 = k1;
      }
      NDArray result = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
      result.attach(manager);
      return result;
    }
  }

  /** Builder for {@link RoiAlign}. */
  public static final class Builder {
    private int outputHeight = 7;
    private int outputWidth = 7;
    private float spatialScale = 1f;
    private int samplingRatio = -1;
    private boolean aligned;
    private Backend backend = Backend.AUTO;
    // upper bound on sparse sampling-matrix entries per chunk of RoIs in the NDARRAY path
    private long sparseBudget = 1L << 22;

    private Builder() {}

    /** Test hook: a small budget forces the NDARRAY path to split the RoIs into chunks. */
    Builder optSparseBudget(long sparseBudget) {
      this.sparseBudget = sparseBudget;
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
     * Sets the factor mapping RoI coordinates to feature coordinates (default 1, e.g. 1/16).
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
     * Sets the sampling grid per bin and axis; {@code <= 0} (default -1) means adaptive {@code
     * ceil(roiSize / outputSize)}.
     *
     * @param samplingRatio samples per bin and axis
     * @return this builder
     */
    public Builder optSamplingRatio(int samplingRatio) {
      this.samplingRatio = samplingRatio;
      return this;
    }

    /**
     * Sets the {@code aligned} flag (default false): shift RoI coordinates by -0.5 pixel so that
     * pixel centres align, and do not force RoIs to at least 1x1.
     *
     * @param aligned the flag
     * @return this builder
     */
    public Builder optAligned(boolean aligned) {
      this.aligned = aligned;
      return this;
    }

    /**
     * Chooses the implementation (default {@link Backend#AUTO}).
     *
     * @param backend the implementation
     * @return this builder
     */
    public Builder optBackend(Backend backend) {
      if (backend == null) {
        throw new IllegalArgumentException("backend must not be null");
      }
      this.backend = backend;
      return this;
    }

    /**
     * Builds the op.
     *
     * @return a new {@link RoiAlign}
     */
    public RoiAlign build() {
      return new RoiAlign(this);
    }
  }
}
