package dev.jdetect.core.roi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.stream.IntStream;

/**
 * RoI max pooling (Fast R-CNN) with torchvision's {@code roi_pool} semantics: RoI corners are
 * scaled and rounded half away from zero, the RoI is at least 1x1, bin {@code p} spans {@code
 * [floor(p * bin), ceil((p + 1) * bin))} offset by the RoI start and clipped to the map, an empty
 * bin yields 0, and ties keep the first maximum in row-major order.
 *
 * <p>The max search runs on a Java copy of the features (multi-threaded over RoIs); the result is
 * moved back to the features' device. When the features require a gradient, the output is instead
 * gathered from the features at the arg-max positions, so PyTorch autograd routes the gradient to
 * the arg-max pixel of each bin exactly like torchvision's backward.
 */
public final class RoiPool {

  private final int outputHeight;
  private final int outputWidth;
  private final float spatialScale;

  private RoiPool(Builder b) {
    this.outputHeight = b.outputHeight;
    this.outputWidth = b.outputWidth;
    this.spatialScale = b.spatialScale;
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
    int oh = outputHeight;
    int ow = outputWidth;
    NDManager manager = features.getManager();
    Shape outShape = new Shape(k, c, oh, ow);
    if (k == 0 || c == 0) {
      return manager.zeros(outShape, DataType.FLOAT32);
    }
    long total = fs.size();
    if (total > Integer.MAX_VALUE - 2) {
      throw new IllegalArgumentException("features too large for RoiPool, shape " + fs);
    }
    boolean grad = features.hasGradient();
    float[] f;
    try (NDManager sub = manager.newSubManager()) {
      features.tempAttach(sub);
      f = features.toFloatArray();
    }
    int perRoi = c * oh * ow;
    float[] values = new float[k * perRoi];
    int[] argmax = grad ? new int[k * perRoi] : null;
    int emptySlot = (int) total; // holds 0 in the gather source
    int floorSlot = (int) total + 1; // holds -FLT_MAX in the gather source
    IntStream stream = IntStream.range(0, k);
    if ((long) k * perRoi > (1 << 15)) {
      stream = stream.parallel();
    }
    stream.forEach(
        roi -> {
          int batch = (int) r[5 * roi];
          int startW = roundHalfAway(r[5 * roi + 1] * spatialScale);
          int startH = roundHalfAway(r[5 * roi + 2] * spatialScale);
          int endW = roundHalfAway(r[5 * roi + 3] * spatialScale);
          int endH = roundHalfAway(r[5 * roi + 4] * spatialScale);
          int roiW = Math.max(endW - startW + 1, 1);
          int roiH = Math.max(endH - startH + 1, 1);
          float binH = (float) roiH / (float) oh;
          float binW = (float) roiW / (float) ow;
          for (int ph = 0; ph < oh; ph++) {
            int hs = (int) Math.floor((float) ph * binH);
            int he = (int) Math.ceil((float) (ph + 1) * binH);
            hs = Math.min(Math.max(hs + startH, 0), h);
            he = Math.min(Math.max(he + startH, 0), h);
            for (int pw = 0; pw < ow; pw++) {
              int ws = (int) Math.floor((float) pw * binW);
              int we = (int) Math.ceil((float) (pw + 1) * binW);
              ws = Math.min(Math.max(ws + startW, 0), w);
              we = Math.min(Math.max(we + startW, 0), w);
              boolean empty = he <= hs || we <= ws;
              for (int ch = 0; ch < c; ch++) {
                int base = (batch * c + ch) * h * w;
                float max = empty ? 0f : -Float.MAX_VALUE;
                int arg = -1;
                for (int y = hs; y < he; y++) {
                  for (int x = ws; x < we; x++) {
                    float v = f[base + y * w + x];
                    if (v > max) {
                      max = v;
                      arg = base + y * w + x;
                    }
                  }
                }
                int o = ((roi * c + ch) * oh + ph) * ow + pw;
                values[o] = max;
                if (argmax != null) {
                  argmax[o] = arg >= 0 ? arg : (empty ? emptySlot : floorSlot);
                }
              }
            }
          }
        });
    if (!grad) {
      NDArray out = manager.create(values, outShape);
      return out;
    }
    try (NDManager sub = manager.newSubManager()) {
      features.tempAttach(sub);
      NDArray extra = sub.create(new float[] {0f, -Float.MAX_VALUE});
      NDArray source = features.reshape(-1).concat(extra, 0);
      NDArray idx = sub.create(argmax).toType(DataType.INT64, false);
      NDArray out = source.get(idx).reshape(outShape);
      out.attach(manager);
      return out;
    }
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

  /** C's {@code round} on a float: halves go away from zero. */
  static int roundHalfAway(float v) {
    double d = v;
    return (int) (d >= 0 ? Math.floor(d + 0.5) : -Math.floor(-d + 0.5));
  }

  /** Builder for {@link RoiPool}. */
  public static final class Builder {
    private int outputHeight = 7;
    private int outputWidth = 7;
    private float spatialScale = 1f;

    private Builder() {}

    /**
     * Sets the output size (default 7x7).
     *
     * @param height output height, {@code >= 1}
     * @param width output width, {@code >= 1}
     * @return this builder
     */
    public Builder setOutputSize(int height, int width) {
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
    public Builder setSpatialScale(float spatialScale) {
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
