package dev.jdetect.core.anchor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.box.Boxes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * SSD default-box (prior) generator with the semantics of torchvision's {@code
 * models.detection.anchor_utils.DefaultBoxGenerator}.
 *
 * <p>Level {@code k} has scale {@code s_k}; its boxes per location are, in order: {@code (s_k,
 * s_k)}, {@code (s'_k, s'_k)} with {@code s'_k = sqrt(s_k * s_{k+1})}, then for every aspect ratio
 * {@code ar} the pair {@code (s_k sqrt(ar), s_k / sqrt(ar))} and its transpose, i.e. {@code 2 + 2 *
 * |ratios_k|} boxes. Scales are given explicitly ({@code levels + 1} values) or spread linearly
 * from {@code minRatio} to {@code maxRatio} with a final 1.0 (a single level uses {@code [minRatio,
 * maxRatio]}). Box centres are {@code (j + 0.5) / f_k} where {@code f_k} is the grid size, or
 * {@code imageSize / step_k} when steps are given. With {@code clip} the relative widths and
 * heights (not the boxes) are clamped to {@code [0, 1]}, exactly as torchvision does.
 *
 * <p>Order: levels in order, positions row-major, the level's boxes per position. Scale arithmetic
 * is done in double and rounded to float32 like torchvision's Python floats. Instances are
 * immutable and thread-safe.
 */
public final class DefaultBoxGenerator implements AnchorSource {

  private final List<double[]> aspectRatios;
  private final double[] scales;
  private final int[] steps;
  private final boolean clip;

  /** Relative (w, h) pairs per level, already clipped if {@code clip}, row-major (A_k, 2). */
  private final List<float[]> whPairs;

  private DefaultBoxGenerator(Builder b) {
    if (b.aspectRatios == null) {
      throw new IllegalArgumentException("aspectRatios must be set");
    }
    int levels = b.aspectRatios.size();
    if (b.steps != null && b.steps.length != levels) {
      throw new IllegalArgumentException(
          "aspectRatios and steps should have the same length, got "
              + levels
              + " and "
              + b.steps.length);
    }
    if (!(b.minRatio > 0) || !(b.maxRatio >= b.minRatio) || Double.isInfinite(b.maxRatio)) {
      throw new IllegalArgumentException(
          "need 0 < minRatio <= maxRatio (finite), got minRatio="
              + b.minRatio
              + ", maxRatio="
              + b.maxRatio);
    }
    double[] sc;
    if (b.scales != null) {
      if (b.scales.length != levels + 1) {
        throw new IllegalArgumentException(
            "scales must have levels + 1 = "
                + (levels + 1)
                + " values, got "
                + Arrays.toString(b.scales));
      }
      sc = b.scales.clone();
    } else if (levels > 1) {
      sc = new double[levels + 1];
      double range = b.maxRatio - b.minRatio;
      for (int k = 0; k < levels; k++) {
        sc[k] = b.minRatio + range * k / (levels - 1.0);
      }
      sc[levels] = 1.0;
    } else {
      sc = new double[] {b.minRatio, b.maxRatio};
    }
    this.aspectRatios = b.aspectRatios;
    this.scales = sc;
    this.steps = b.steps == null ? null : b.steps.clone();
    this.clip = b.clip;
    List<float[]> pairs = new ArrayList<>(levels);
    for (int k = 0; k < levels; k++) {
      double[] ratios = aspectRatios.get(k);
      float[] p = new float[(2 + 2 * ratios.length) * 2];
      double sk = sc[k];
      double skPrime = Math.sqrt(sc[k] * sc[k + 1]);
      int i = 0;
      p[i++] = (float) sk;
      p[i++] = (float) sk;
      p[i++] = (float) skPrime;
      p[i++] = (float) skPrime;
      for (double ar : ratios) {
        double sq = Math.sqrt(ar);
        double w = sk * sq;
        double h = sk / sq;
        p[i++] = (float) w;
        p[i++] = (float) h;
        p[i++] = (float) h;
        p[i++] = (float) w;
      }
      if (clip) {
        for (int j = 0; j < p.length; j++) {
          p[j] = Math.min(Math.max(p[j], 0f), 1f);
        }
      }
      pairs.add(p);
    }
    this.whPairs = Collections.unmodifiableList(pairs);
  }

  /**
   * Returns a builder with torchvision's defaults ({@code minRatio 0.15}, {@code maxRatio 0.9},
   * scales from them, no steps, {@code clip true}); the aspect ratios must be set.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns torchvision's {@code ssd300_vgg16} generator: ratios {@code [[2], [2, 3], [2, 3], [2,
   * 3], [2], [2]]}, scales {@code 0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05}, steps {@code 8, 16,
   * 32, 64, 100, 300}; 8732 boxes for a 300x300 input with grids 38, 19, 10, 5, 3, 1.
   *
   * @return the SSD300 generator
   */
  public static DefaultBoxGenerator ssd300() {
    return builder()
        .setAspectRatios(
            List.of(
                new float[] {2},
                new float[] {2, 3},
                new float[] {2, 3},
                new float[] {2, 3},
                new float[] {2},
                new float[] {2}))
        .optScales(0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05)
        .optSteps(8, 16, 32, 64, 100, 300)
        .build();
  }

  /**
   * Returns the number of default boxes per grid location for each level ({@code 2 + 2 *
   * |ratios_k|}).
   *
   * @return one count per level
   */
  @Override
  public int[] numAnchorsPerLocation() {
    int[] n = new int[aspectRatios.size()];
    for (int k = 0; k < n.length; k++) {
      n[k] = 2 + 2 * aspectRatios.get(k).length;
    }
    return n;
  }

  /**
   * Returns the scales in use ({@code levels + 1} values).
   *
   * @return a copy of the scales
   */
  public double[] getScales() {
    return scales.clone();
  }

  /**
   * Returns whether steps are configured (then relative centres depend on the image size).
   *
   * @return {@code true} if steps were set
   */
  public boolean hasSteps() {
    return steps != null;
  }

  /**
   * Generates the default boxes in relative {@code (cx, cy, w, h)} form (torchvision's {@code
   * _grid_default_boxes}); only for generators without steps, whose centres depend on the grid
   * alone.
   *
   * @param manager the manager (and device) of the result
   * @param featureShapes one shape per level; its last two axes are the grid {@code (H_k, W_k)}
   * @return float32 {@code (sum_k H_k * W_k * A_k, 4)} relative boxes
   * @throws IllegalArgumentException if steps are set (use {@link
   *     #generateRelativeCxcywh(NDManager, List, int, int)}) or the shapes are invalid
   */
  public NDArray generateRelativeCxcywh(NDManager manager, List<Shape> featureShapes) {
    if (steps != null) {
      throw new IllegalArgumentException(
          "this generator has steps "
              + Arrays.toString(steps)
              + ", so relative centres depend on the image size; call "
              + "generateRelativeCxcywh(manager, featureShapes, imageHeight, imageWidth)");
    }
    FeatureGrids.validate(manager, featureShapes, aspectRatios.size(), 1, 1);
    return relative(manager, featureShapes, 0, 0);
  }

  /**
   * Generates the default boxes in relative {@code (cx, cy, w, h)} form for an image of the given
   * size (the size matters only when steps are set).
   *
   * @param manager the manager (and device) of the result
   * @param featureShapes one shape per level; its last two axes are the grid {@code (H_k, W_k)}
   * @param imageHeight input image height in pixels
   * @param imageWidth input image width in pixels
   * @return float32 {@code (sum_k H_k * W_k * A_k, 4)} relative boxes
   * @throws IllegalArgumentException if the shapes or the image size are invalid
   */
  public NDArray generateRelativeCxcywh(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    FeatureGrids.validate(manager, featureShapes, aspectRatios.size(), imageHeight, imageWidth);
    return relative(manager, featureShapes, imageHeight, imageWidth);
  }

  /**
   * Generates the default boxes as {@code (x1, y1, x2, y2)} in input-image pixels, exactly like
   * torchvision's {@code forward} for one image.
   *
   * @param manager the manager (and device) of the result
   * @param featureShapes one shape per level; its last two axes are the grid {@code (H_k, W_k)}
   * @param imageHeight input image height in pixels
   * @param imageWidth input image width in pixels
   * @return float32 {@code (sum_k H_k * W_k * A_k, 4)} boxes
   * @throws IllegalArgumentException if the shapes or the image size are invalid
   */
  @Override
  public NDArray generate(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    FeatureGrids.validate(manager, featureShapes, aspectRatios.size(), imageHeight, imageWidth);
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray rel = relative(manager, featureShapes, imageHeight, imageWidth);
      NDArray size = manager.create(new float[] {imageWidth, imageHeight, imageWidth, imageHeight});
      out = Boxes.cxcywhToXyxy(rel).mul(size);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("DefaultBoxGenerator(aspectRatios=[");
    for (int k = 0; k < aspectRatios.size(); k++) {
      sb.append(k == 0 ? "" : ", ").append(Arrays.toString(aspectRatios.get(k)));
    }
    return sb.append("], clip=")
        .append(clip)
        .append(", scales=")
        .append(Arrays.toString(scales))
        .append(", steps=")
        .append(steps == null ? "None" : Arrays.toString(steps))
        .append(')')
        .toString();
  }

  private NDArray relative(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList levels = new NDList(featureShapes.size());
      for (int k = 0; k < featureShapes.size(); k++) {
        Shape s = featureShapes.get(k);
        long h = FeatureGrids.height(s);
        long w = FeatureGrids.width(s);
        // torchvision: x_f_k = image_w / step (Python float division) or the grid width.
        float xfk = steps == null ? (float) w : (float) ((double) imageWidth / steps[k]);
        float yfk = steps == null ? (float) h : (float) ((double) imageHeight / steps[k]);
        float[] pairs = whPairs.get(k);
        int a = pairs.length / 2;
        Shape grid = new Shape(h, w, a, 1);
        NDArray cx = manager.arange(0.5f, w, 1f).div(xfk).reshape(1, w, 1, 1).broadcast(grid);
        NDArray cy = manager.arange(0.5f, h, 1f).div(yfk).reshape(h, 1, 1, 1).broadcast(grid);
        NDArray wh = manager.create(pairs, new Shape(1, 1, a, 2)).broadcast(new Shape(h, w, a, 2));
        levels.add(NDArrays.concat(new NDList(cx, cy, wh), 3).reshape(h * w * a, 4));
      }
      out = levels.size() == 1 ? levels.get(0) : NDArrays.concat(levels, 0);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /** Builder for {@link DefaultBoxGenerator}; defaults follow torchvision. */
  public static final class Builder {

    private List<double[]> aspectRatios;
    private double minRatio = 0.15;
    private double maxRatio = 0.9;
    private double[] scales;
    private int[] steps;
    private boolean clip = true;

    private Builder() {}

    /**
     * Sets the aspect ratios per level (required), e.g. {@code [[2], [2, 3], ...]}. Each float is
     * read as its shortest decimal form ({@code 0.3f} as 0.3) so the double arithmetic matches
     * torchvision's Python floats.
     *
     * @param aspectRatios one array of positive finite ratios per level (an array may be empty)
     * @return this builder
     * @throws IllegalArgumentException if the list is empty or a ratio is not positive
     */
    public Builder setAspectRatios(List<float[]> aspectRatios) {
      if (aspectRatios == null || aspectRatios.isEmpty()) {
        throw new IllegalArgumentException("aspectRatios must have at least one level");
      }
      List<double[]> copy = new ArrayList<>(aspectRatios.size());
      for (int k = 0; k < aspectRatios.size(); k++) {
        float[] r = aspectRatios.get(k);
        if (r == null) {
          throw new IllegalArgumentException("aspectRatios[" + k + "] must not be null");
        }
        double[] d = new double[r.length];
        for (int i = 0; i < r.length; i++) {
          if (!(r[i] > 0f) || Float.isInfinite(r[i])) {
            throw new IllegalArgumentException(
                "aspectRatios[" + k + "] must be finite and > 0, got " + Arrays.toString(r));
          }
          d[i] = Double.parseDouble(Float.toString(r[i]));
        }
        copy.add(d);
      }
      this.aspectRatios = Collections.unmodifiableList(copy);
      return this;
    }

    /**
     * Sets the smallest scale used when no scales are given; default 0.15.
     *
     * @param minRatio the scale of the first level, relative to the image
     * @return this builder
     */
    public Builder optMinRatio(double minRatio) {
      this.minRatio = minRatio;
      return this;
    }

    /**
     * Sets the largest scale used when no scales are given; default 0.9.
     *
     * @param maxRatio the scale of the last level, relative to the image
     * @return this builder
     */
    public Builder optMaxRatio(double maxRatio) {
      this.maxRatio = maxRatio;
      return this;
    }

    /**
     * Sets explicit scales ({@code levels + 1} values, the last one used only for {@code s'});
     * {@code null} (the default) derives them from the min and max ratios.
     *
     * @param scales positive finite scales, or {@code null}
     * @return this builder
     * @throws IllegalArgumentException if a scale is not positive and finite
     */
    public Builder optScales(double... scales) {
      if (scales != null) {
        for (double s : scales) {
          if (!(s > 0) || Double.isInfinite(s)) {
            throw new IllegalArgumentException(
                "scales must be finite and > 0, got " + Arrays.toString(scales));
          }
        }
      }
      this.scales = scales == null ? null : scales.clone();
      return this;
    }

    /**
     * Sets explicit scales given as floats; each is read as its shortest decimal form ({@code
     * 0.07f} as 0.07) so the double arithmetic matches torchvision's Python floats.
     *
     * @param scales positive finite scales ({@code levels + 1} values)
     * @return this builder
     * @throws IllegalArgumentException if a scale is not positive and finite
     */
    public Builder optScales(float[] scales) {
      if (scales == null) {
        return optScales((double[]) null);
      }
      double[] d = new double[scales.length];
      for (int i = 0; i < d.length; i++) {
        d[i] = Double.parseDouble(Float.toString(scales[i]));
      }
      return optScales(d);
    }

    /**
     * Sets the steps (pixels per cell, one per level) that place the centres at {@code (j + 0.5) *
     * step / imageSize}; {@code null} (the default) uses the grid size.
     *
     * @param steps positive steps, or {@code null}
     * @return this builder
     * @throws IllegalArgumentException if a step is not positive
     */
    public Builder optSteps(int... steps) {
      this.steps = FeatureGrids.copyPositive(steps, "steps");
      return this;
    }

    /**
     * Sets whether relative widths and heights are clamped to {@code [0, 1]}; default {@code true}.
     *
     * @param clip whether to clamp
     * @return this builder
     */
    public Builder optClip(boolean clip) {
      this.clip = clip;
      return this;
    }

    /**
     * Builds the generator.
     *
     * @return a new immutable {@link DefaultBoxGenerator}
     * @throws IllegalArgumentException if the aspect ratios are missing, or the steps, scales or
     *     ratio bounds do not fit the level count
     */
    public DefaultBoxGenerator build() {
      return new DefaultBoxGenerator(this);
    }
  }
}
