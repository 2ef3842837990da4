package dev.jdetect.core.roi;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * RoIAlign over a feature pyramid, as torchvision's {@code MultiScaleRoIAlign}: each box is pooled
 * from the level chosen by the FPN rule {@code floor(canonicalLevel + log2(sqrt(area) /
 * canonicalScale) + eps)}, clamped to the available levels.
 *
 * <p>Level scales are inferred like torchvision: {@code 2^round(log2(featureHeight /
 * maxImageHeight))} per level, where the image size is the largest height and width over {@code
 * imageSizes}; the first and last scales give {@code k_min} and {@code k_max}. RoIAlign runs with
 * {@code aligned = false} and the configured sampling ratio. The level rule is evaluated with
 * float32 NDArray ops, as torchvision does. Differentiable with respect to the features.
 */
public final class MultiScaleRoiAlign {

  private final int outputHeight;
  private final int outputWidth;
  private final int samplingRatio;
  private final int canonicalScale;
  private final int canonicalLevel;
  private final float eps;
  private final RoiAlign.Backend backend;

  private MultiScaleRoiAlign(Builder b) {
    this.outputHeight = b.outputHeight;
    this.outputWidth = b.outputWidth;
    this.samplingRatio = b.samplingRatio;
    this.canonicalScale = b.canonicalScale;
    this.canonicalLevel = b.canonicalLevel;
    this.eps = b.eps;
    this.backend = b.backend;
  }

  /**
   * Returns a builder with torchvision's Faster R-CNN defaults (7x7, sampling ratio 2, canonical
   * scale 224, canonical level 4, eps 1e-6).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Pools the boxes of every image from their FPN level.
   *
   * @param features one (N, C, H_l, W_l) float32 map per level, finest first
   * @param boxesPerImage N arrays of (K_i, 4) boxes in (resized) image coordinates
   * @param imageSizes {height, width} of every image (used to infer the level scales)
   * @return (sum K_i, C, outputHeight, outputWidth), rows in the order of the concatenated boxes
   */
  public NDArray apply(
      List<NDArray> features, List<NDArray> boxesPerImage, List<int[]> imageSizes) {
    checkFeatures(features);
    float[] scales = scales(features, imageSizes);
    NDArray first = features.get(0);
    NDManager manager = first.getManager();
    long n = first.getShape().get(0);
    if (boxesPerImage == null || boxesPerImage.size() != n) {
      throw new IllegalArgumentException(
          "boxesPerImage must hold one array per image ("
              + n
              + "), got "
              + (boxesPerImage == null ? "null" : boxesPerImage.size()));
    }
    try (NDManager sub = manager.newSubManager()) {
      NDArray rois = Rois.fromBoxes(boxesPerImage);
      rois.attach(sub);
      if (features.size() == 1) {
        NDArray out = align(scales[0]).apply(first, rois);
        out.attach(manager);
        return out;
      }
      int k = Math.toIntExact(rois.getShape().get(0));
      long c = first.getShape().get(1);
      if (k == 0) {
        NDArray empty = sub.zeros(new Shape(0, c, outputHeight, outputWidth), DataType.FLOAT32);
        empty.attach(manager);
        return empty;
      }
      NDArray lv = levels(boxesPerImage, scales);
      lv.attach(sub);
      long[] level = lv.toLongArray();
      int numLevels = features.size();
      int groups = numLevels;
      for (long l : level) {
        groups = Math.max(groups, (int) l + 1);
      }
      int[] counts = new int[groups];
      for (long l : level) {
        counts[(int) l]++;
      }
      long[] perm = new long[k];
      int[] start = new int[groups + 1];
      for (int l = 0; l < groups; l++) {
        start[l + 1] = start[l] + counts[l];
      }
      int[] fill = start.clone();
      for (int i = 0; i < k; i++) {
        perm[fill[(int) level[i]]++] = i;
      }
      NDList outs = new NDList();
      for (int l = 0; l < groups; l++) {
        if (counts[l] == 0) {
          continue;
        }
        if (l >= numLevels) {
          // non-consecutive scales can map boxes past the last map: torchvision leaves them 0
          outs.add(sub.zeros(new Shape(counts[l], c, outputHeight, outputWidth), DataType.FLOAT32));
          continue;
        }
        long[] idx = java.util.Arrays.copyOfRange(perm, start[l], start[l + 1]);
        NDArray levelRois = rois.get(sub.create(idx));
        NDArray out = align(scales[l]).apply(features.get(l), levelRois);
        out.attach(sub);
        outs.add(out);
      }
      NDArray stacked = outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs, 0);
      long[] inverse = new long[k];
      for (int i = 0; i < k; i++) {
        inverse[(int) perm[i]] = i;
      }
      // index backward reads the indices: give it a PyTorch-owned copy, not a Java-side buffer
      NDArray result;
      try (NDArray view = sub.create(inverse)) {
        result = stacked.get(view.duplicate());
      }
      result.attach(manager);
      return result;
    }
  }

  /**
   * FPN level of every box, 0 meaning the first (finest) feature map, computed like torchvision's
   * {@code LevelMapper}.
   *
   * @param boxesPerImage N arrays of (K_i, 4) boxes
   * @param features the pyramid (only the shapes are used)
   * @param imageSizes {height, width} of every image
   * @return int64 (sum K_i) level indices in [0, number of levels)
   */
  public NDArray levels(
      List<NDArray> boxesPerImage, List<NDArray> features, List<int[]> imageSizes) {
    checkFeatures(features);
    return levels(boxesPerImage, scales(features, imageSizes));
  }

  /**
   * FPN level of every box of one concatenated (K, 4) array; see {@link #levels(List, List, List)}.
   *
   * @param boxes (K, 4) boxes
   * @param features the pyramid (only the shapes are used)
   * @param imageSizes {height, width} of every image
   * @return int64 (K) level indices
   */
  public NDArray levels(NDArray boxes, List<NDArray> features, List<int[]> imageSizes) {
    return levels(java.util.Collections.singletonList(boxes), features, imageSizes);
  }

  private NDArray levels(List<NDArray> boxesPerImage, float[] scales) {
    int kMin = (int) Math.round(-log2(scales[0]));
    int kMax = (int) Math.round(-log2(scales[scales.length - 1]));
    NDArray anyBoxes = boxesPerImage.get(0);
    NDManager manager = anyBoxes.getManager();
    try (NDManager sub = manager.newSubManager()) {
      NDArray rois = Rois.fromBoxes(boxesPerImage);
      rois.attach(sub);
      NDArray b = rois.get(":, 1:");
      NDArray area = b.get(":, 2").sub(b.get(":, 0")).mul(b.get(":, 3").sub(b.get(":, 1")));
      NDArray s = area.sqrt();
      NDArray lvl =
          s.div((float) canonicalScale).log2().add((float) canonicalLevel).add(eps).floor();
      lvl = lvl.clip(kMin, kMax);
      NDArray out = lvl.toType(DataType.INT64, false).sub(kMin);
      out.attach(manager);
      return out;
    }
  }

  /**
   * Scale of every level relative to the input image, inferred as torchvision does: {@code
   * 2^round(log2(H_l / maxImageHeight))}.
   *
   * @param features the pyramid
   * @param imageSizes {height, width} of every image, not empty
   * @return one power-of-two scale per level
   */
  public float[] scales(List<NDArray> features, List<int[]> imageSizes) {
    checkFeatures(features);
    if (imageSizes == null || imageSizes.isEmpty()) {
      throw new IllegalArgumentException("imageSizes must not be null or empty");
    }
    int maxH = 0;
    for (int i = 0; i < imageSizes.size(); i++) {
      int[] size = imageSizes.get(i);
      if (size == null || size.length != 2 || size[0] <= 0 || size[1] <= 0) {
        throw new IllegalArgumentException(
            "imageSizes["
                + i
                + "] must be {height, width} with positive values, got "
                + java.util.Arrays.toString(size));
      }
      maxH = Math.max(maxH, size[0]);
    }
    float[] scales = new float[features.size()];
    for (int l = 0; l < scales.length; l++) {
      long fh = features.get(l).getShape().get(2);
      float approx = (float) ((double) fh / (double) maxH);
      double r = Math.rint(log2(approx));
      scales[l] = (float) Math.pow(2, r);
    }
    return scales;
  }

  private RoiAlign align(float scale) {
    return RoiAlign.builder()
        .optOutputSize(outputHeight, outputWidth)
        .optSpatialScale(scale)
        .optSamplingRatio(samplingRatio)
        .optAligned(false)
        .optBackend(backend)
        .build();
  }

  private static double log2(double v) {
    return Math.log(v) / Math.log(2);
  }

  private static void checkFeatures(List<NDArray> features) {
    if (features == null || features.isEmpty()) {
      throw new IllegalArgumentException("features must not be null or empty");
    }
    Shape s0 = null;
    for (int l = 0; l < features.size(); l++) {
      NDArray f = features.get(l);
      Rois.checkFeatures(f, "features[" + l + "]");
      Shape s = f.getShape();
      if (s0 == null) {
        s0 = s;
      } else if (s.get(0) != s0.get(0) || s.get(1) != s0.get(1)) {
        throw new IllegalArgumentException(
            "features[" + l + "] must share N and C with features[0] " + s0 + ", got " + s);
      }
    }
  }

  /** Builder for {@link MultiScaleRoiAlign}. */
  public static final class Builder {
    private int outputHeight = 7;
    private int outputWidth = 7;
    private int samplingRatio = 2;
    private int canonicalScale = 224;
    private int canonicalLevel = 4;
    private float eps = 1e-6f;
    private RoiAlign.Backend backend = RoiAlign.Backend.AUTO;

    private Builder() {}

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
     * Sets RoIAlign's sampling ratio (default 2; {@code <= 0} is adaptive).
     *
     * @param samplingRatio samples per bin and axis
     * @return this builder
     */
    public Builder optSamplingRatio(int samplingRatio) {
      this.samplingRatio = samplingRatio;
      return this;
    }

    /**
     * Sets the canonical box size of the level rule (default 224).
     *
     * @param canonicalScale a positive size in pixels
     * @return this builder
     */
    public Builder optCanonicalScale(int canonicalScale) {
      if (canonicalScale <= 0) {
        throw new IllegalArgumentException("canonicalScale must be > 0, got " + canonicalScale);
      }
      this.canonicalScale = canonicalScale;
      return this;
    }

    /**
     * Sets the level of a canonical-size box (default 4).
     *
     * @param canonicalLevel the level
     * @return this builder
     */
    public Builder optCanonicalLevel(int canonicalLevel) {
      this.canonicalLevel = canonicalLevel;
      return this;
    }

    /**
     * Sets the epsilon added before flooring the level (default 1e-6).
     *
     * @param eps a finite value
     * @return this builder
     */
    public Builder optEps(float eps) {
      if (!Float.isFinite(eps)) {
        throw new IllegalArgumentException("eps must be finite, got " + eps);
      }
      this.eps = eps;
      return this;
    }

    /**
     * Chooses the RoIAlign implementation (default {@link RoiAlign.Backend#AUTO}).
     *
     * @param backend the implementation
     * @return this builder
     */
    public Builder optBackend(RoiAlign.Backend backend) {
      if (backend == null) {
        throw new IllegalArgumentException("backend must not be null");
      }
      this.backend = backend;
      return this;
    }

    /**
     * Builds the pooler.
     *
     * @return a new {@link MultiScaleRoiAlign}
     */
    public MultiScaleRoiAlign build() {
      return new MultiScaleRoiAlign(this);
    }
  }
}
