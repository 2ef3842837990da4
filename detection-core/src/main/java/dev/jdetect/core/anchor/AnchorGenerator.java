package dev.jdetect.core.anchor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Faster R-CNN anchor generator with the semantics of torchvision's {@code
 * models.detection.anchor_utils.AnchorGenerator}, plus the classic "base size x scales x ratios"
 * form of the original paper.
 *
 * <p>For feature level {@code l} with sizes {@code S_l} and aspect ratios {@code R_l} (ratio =
 * height / width) every grid cell gets {@code |R_l| * |S_l|} anchors, ratio-major and size-minor:
 * an anchor of size {@code s} and ratio {@code r} has width {@code s / sqrt(r)} and height {@code s
 * * sqrt(r)}. The zero-centred base anchors are computed once per generator (rounded to integers
 * half-to-even, as torchvision does, unless {@link Builder#optRoundBase(boolean)} turns it off) and
 * shifted to {@code stride * (i + centerOffset)} for every cell; torchvision's offset is 0, the
 * classic form's 0.5. The stride is {@code imageSize / gridSize} (integer division, per axis)
 * unless fixed strides are set.
 *
 * <p>Output order matches torchvision: levels in order, within a level grid positions row-major
 * ({@code y} then {@code x}), within a position the level's anchors. Anchors are float32 {@code
 * (x1, y1, x2, y2)} in input-image pixels on the given manager's device. Instances are immutable
 * and thread-safe.
 */
public final class AnchorGenerator {

  private final List<float[]> sizes;
  private final List<float[]> aspectRatios;
  private final boolean roundBase;
  private final float centerOffset;
  private final int[] strides;

  /** Zero-centred base anchors per level, row-major {@code (A_l, 4)}, computed once. */
  private final List<float[]> cellAnchors;

  private AnchorGenerator(Builder b) {
    int levels = b.sizes.size();
    List<float[]> ratios = b.aspectRatios;
    if (ratios.size() == 1 && levels > 1) {
      ratios = Collections.nCopies(levels, ratios.get(0));
    }
    if (ratios.size() != levels) {
      throw new IllegalArgumentException(
          "aspectRatios must have one entry per level (or a single entry for all), got "
              + ratios.size()
              + " for "
              + levels
              + " levels of sizes");
    }
    if (b.strides != null && b.strides.length != levels) {
      throw new IllegalArgumentException(
          "strides must have one entry per level, got "
              + b.strides.length
              + " for "
              + levels
              + " levels");
    }
    List<float[]> s = new ArrayList<>();
    List<float[]> r = new ArrayList<>();
    List<float[]> cells = new ArrayList<>();
    for (int l = 0; l < levels; l++) {
      s.add(b.sizes.get(l).clone());
      r.add(ratios.get(l).clone());
      cells.add(baseAnchors(b.sizes.get(l), ratios.get(l), b.roundBase));
    }
    this.sizes = Collections.unmodifiableList(s);
    this.aspectRatios = Collections.unmodifiableList(r);
    this.roundBase = b.roundBase;
    this.centerOffset = b.centerOffset;
    this.strides = b.strides == null ? null : b.strides.clone();
    this.cellAnchors = Collections.unmodifiableList(cells);
  }

  /**
   * Returns a builder with torchvision's defaults: one level, sizes {@code (128, 256, 512)}, ratios
   * {@code (0.5, 1, 2)}, rounded base anchors, centre offset 0, strides from the image and grid
   * sizes.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the classic Faster R-CNN generator of the paper and most tutorials: base size 16,
   * scales {@code (8, 16, 32)}, ratios {@code (0.5, 1, 2)}, stride 16, centres at {@code 16 * (i +
   * 0.5)}, base anchors not rounded (9 anchors per location).
   *
   * @return the classic generator
   */
  public static AnchorGenerator classic() {
    return builder()
        .optClassic(16f, new float[] {8f, 16f, 32f}, new float[] {0.5f, 1f, 2f}, 16)
        .build();
  }

  /**
   * Returns the number of anchors per grid location for each level ({@code |sizes_l| *
   * |ratios_l|}).
   *
   * @return one count per level
   */
  public int[] numAnchorsPerLocation() {
    int[] n = new int[sizes.size()];
    for (int l = 0; l < n.length; l++) {
      n[l] = sizes.get(l).length * aspectRatios.get(l).length;
    }
    return n;
  }

  /**
   * Returns the number of feature levels this generator expects.
   *
   * @return the level count
   */
  public int numLevels() {
    return sizes.size();
  }

  /**
   * Returns the zero-centred base anchors of one level (torchvision's {@code cell_anchors}).
   *
   * @param manager the manager (and device) of the result
   * @param level the level index
   * @return float32 {@code (A_l, 4)} anchors
   * @throws IllegalArgumentException if the level does not exist
   */
  public NDArray cellAnchors(NDManager manager, int level) {
    if (level < 0 || level >= cellAnchors.size()) {
      throw new IllegalArgumentException(
          "level must be in [0, " + cellAnchors.size() + "), got " + level);
    }
    float[] cell = cellAnchors.get(level);
    return manager.create(cell, new Shape(cell.length / 4, 4));
  }

  /**
   * Generates the anchors of all levels for one image, concatenated in torchvision order.
   *
   * @param manager the manager (and device) of the result
   * @param featureShapes one shape per level; its last two axes are the grid {@code (H_l, W_l)}, so
   *     {@code (H, W)} and {@code (N, C, H, W)} both work
   * @param imageHeight input image height in pixels (after resizing/batching)
   * @param imageWidth input image width in pixels
   * @return float32 {@code (sum_l H_l * W_l * A_l, 4)} xyxy anchors
   * @throws IllegalArgumentException if the level count, a grid or the image size is invalid
   */
  public NDArray generate(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    validate(manager, featureShapes, imageHeight, imageWidth);
    if (featureShapes.size() == 1) {
      return generateLevel(manager, 0, featureShapes.get(0), imageHeight, imageWidth);
    }
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList levels = new NDList(featureShapes.size());
      for (int l = 0; l < featureShapes.size(); l++) {
        levels.add(generateLevel(manager, l, featureShapes.get(l), imageHeight, imageWidth));
      }
      out = NDArrays.concat(levels, 0);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /**
   * Generates the anchors of every level separately (same values and order as {@link
   * #generate(NDManager, List, int, int)}, split per level).
   *
   * @param manager the manager (and device) of the results
   * @param featureShapes one shape per level, last two axes {@code (H_l, W_l)}
   * @param imageHeight input image height in pixels
   * @param imageWidth input image width in pixels
   * @return one float32 {@code (H_l * W_l * A_l, 4)} array per level
   * @throws IllegalArgumentException if the level count, a grid or the image size is invalid
   */
  public List<NDArray> generatePerLevel(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    validate(manager, featureShapes, imageHeight, imageWidth);
    List<NDArray> out = new ArrayList<>(featureShapes.size());
    for (int l = 0; l < featureShapes.size(); l++) {
      out.add(generateLevel(manager, l, featureShapes.get(l), imageHeight, imageWidth));
    }
    return out;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("AnchorGenerator(sizes=[");
    for (int l = 0; l < sizes.size(); l++) {
      sb.append(l == 0 ? "" : ", ").append(Arrays.toString(sizes.get(l)));
    }
    sb.append("], aspectRatios=[");
    for (int l = 0; l < aspectRatios.size(); l++) {
      sb.append(l == 0 ? "" : ", ").append(Arrays.toString(aspectRatios.get(l)));
    }
    return sb.append("], roundBase=")
        .append(roundBase)
        .append(", centerOffset=")
        .append(centerOffset)
        .append(", strides=")
        .append(strides == null ? "image/grid" : Arrays.toString(strides))
        .append(')')
        .toString();
  }

  private NDArray generateLevel(
      NDManager manager, int level, Shape featureShape, int imageHeight, int imageWidth) {
    long h = FeatureGrids.height(featureShape);
    long w = FeatureGrids.width(featureShape);
    int strideH = strides == null ? (int) (imageHeight / h) : strides[level];
    int strideW = strides == null ? (int) (imageWidth / w) : strides[level];
    float[] cell = cellAnchors.get(level);
    int a = cell.length / 4;
    int gridW = Math.toIntExact(w);
    int gridH = Math.toIntExact(h);
    // One grid row of anchors, (1, W, A, 4): base anchor + x centre on the x coordinates. Built on
    // the host because it is tiny (W * A * 4 floats); the float sum equals torchvision's
    // shift + base. The y centres, (H, 1, 1, 4) as (0, cy, 0, cy), are added on the device, so
    // the full level is written once by a single broadcast add.
    float[] row = new float[gridW * a * 4];
    for (int j = 0; j < gridW; j++) {
      float cx = (j + centerOffset) * strideW;
      for (int k = 0; k < a * 4; k += 2) {
        row[j * a * 4 + k] = cell[k] + cx;
        row[j * a * 4 + k + 1] = cell[k + 1];
      }
    }
    float[] col = new float[gridH * 4];
    for (int i = 0; i < gridH; i++) {
      float cy = (i + centerOffset) * strideH;
      col[i * 4 + 1] = cy;
      col[i * 4 + 3] = cy;
    }
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray rowAnchors = manager.create(row, new Shape(1, w, a, 4));
      NDArray colShifts = manager.create(col, new Shape(h, 1, 1, 4));
      out = rowAnchors.add(colShifts).reshape(h * w * a, 4);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  private void validate(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    FeatureGrids.validate(manager, featureShapes, sizes.size(), imageHeight, imageWidth);
    if (strides != null) {
      return;
    }
    for (int l = 0; l < featureShapes.size(); l++) {
      Shape s = featureShapes.get(l);
      if (FeatureGrids.height(s) > imageHeight || FeatureGrids.width(s) > imageWidth) {
        throw new IllegalArgumentException(
            "featureShapes["
                + l
                + "] grid "
                + s
                + " is larger than the image ("
                + imageHeight
                + ", "
                + imageWidth
                + "), so its stride would be 0");
      }
    }
  }

  /** Zero-centred anchors, ratio-major, size-minor, with torchvision's float32 arithmetic. */
  private static float[] baseAnchors(float[] sizes, float[] ratios, boolean round) {
    float[] out = new float[ratios.length * sizes.length * 4];
    int i = 0;
    for (float ratio : ratios) {
      float hRatio = (float) Math.sqrt(ratio);
      float wRatio = 1f / hRatio;
      for (float size : sizes) {
        float ws = wRatio * size;
        float hs = hRatio * size;
        float[] corners = {-ws / 2f, -hs / 2f, ws / 2f, hs / 2f};
        for (float c : corners) {
          // torch.round rounds half to even, like Math.rint.
          out[i++] = round ? (float) Math.rint(c) : c;
        }
      }
    }
    return out;
  }

  /** Builder for {@link AnchorGenerator}; defaults follow torchvision. */
  public static final class Builder {

    private List<float[]> sizes = List.of(new float[] {128f, 256f, 512f});
    private List<float[]> aspectRatios = List.of(new float[] {0.5f, 1f, 2f});
    private boolean roundBase = true;
    private float centerOffset;
    private int[] strides;

    private Builder() {}

    /**
     * Sets the anchor sizes (square root of the area, in pixels) per level; default one level
     * {@code (128, 256, 512)}. torchvision's FPN configuration is {@code [[32], [64], [128], [256],
     * [512]]}.
     *
     * @param sizes one non-empty array of positive finite sizes per level
     * @return this builder
     * @throws IllegalArgumentException if the list or a level is empty or a size is not positive
     */
    public Builder optSizes(List<float[]> sizes) {
      this.sizes = copyPositive(sizes, "sizes");
      return this;
    }

    /**
     * Sets the aspect ratios (height / width) per level, or a single entry used for every level;
     * default {@code (0.5, 1, 2)}.
     *
     * @param aspectRatios one non-empty array of positive finite ratios per level, or one array
     * @return this builder
     * @throws IllegalArgumentException if the list or a level is empty or a ratio is not positive
     */
    public Builder optAspectRatios(List<float[]> aspectRatios) {
      this.aspectRatios = copyPositive(aspectRatios, "aspectRatios");
      return this;
    }

    /**
     * Sets whether the zero-centred base anchors are rounded to integers (half to even) as
     * torchvision does; default {@code true}.
     *
     * @param roundBase whether to round
     * @return this builder
     */
    public Builder optRoundBase(boolean roundBase) {
      this.roundBase = roundBase;
      return this;
    }

    /**
     * Sets where anchors are centred inside a cell, as a fraction of the stride: centres are at
     * {@code stride * (i + centerOffset)}. torchvision uses 0 (the default), the classic form 0.5.
     *
     * @param centerOffset the offset in {@code [0, 1]}
     * @return this builder
     * @throws IllegalArgumentException if the offset is outside {@code [0, 1]} or NaN
     */
    public Builder optCenterOffset(float centerOffset) {
      if (!(centerOffset >= 0f && centerOffset <= 1f)) {
        throw new IllegalArgumentException("centerOffset must be in [0, 1], got " + centerOffset);
      }
      this.centerOffset = centerOffset;
      return this;
    }

    /**
     * Fixes the stride (pixels between neighbouring cells, both axes) per level instead of deriving
     * it as {@code imageSize / gridSize}; {@code null} restores the default.
     *
     * @param strides one positive stride per level, or {@code null}
     * @return this builder
     * @throws IllegalArgumentException if a stride is not positive
     */
    public Builder optStrides(int... strides) {
      this.strides = FeatureGrids.copyPositive(strides, "strides");
      return this;
    }

    /**
     * Configures the classic single-level form: sizes {@code baseSize * scales}, the given ratios,
     * a fixed stride, centres at {@code stride * (i + 0.5)} and unrounded base anchors.
     *
     * @param baseSize base anchor size in pixels (16 in the paper)
     * @param scales scales applied to the base size (8, 16, 32 in the paper)
     * @param ratios aspect ratios height / width (0.5, 1, 2 in the paper)
     * @param stride feature stride in pixels (16 for VGG16 conv5_3)
     * @return this builder
     * @throws IllegalArgumentException if a value is not positive
     */
    public Builder optClassic(float baseSize, float[] scales, float[] ratios, int stride) {
      if (!(baseSize > 0f) || Float.isInfinite(baseSize)) {
        throw new IllegalArgumentException("baseSize must be finite and > 0, got " + baseSize);
      }
      if (scales == null) {
        throw new IllegalArgumentException("scales must not be null");
      }
      float[] s = new float[scales.length];
      for (int i = 0; i < s.length; i++) {
        s[i] = baseSize * scales[i];
      }
      optSizes(List.of(s));
      optAspectRatios(Collections.singletonList(ratios));
      optStrides(stride);
      optCenterOffset(0.5f);
      return optRoundBase(false);
    }

    /**
     * Builds the generator, computing and caching the base anchors.
     *
     * @return a new immutable {@link AnchorGenerator}
     * @throws IllegalArgumentException if the ratio or stride lists do not match the level count
     */
    public AnchorGenerator build() {
      return new AnchorGenerator(this);
    }

    private static List<float[]> copyPositive(List<float[]> values, String name) {
      if (values == null || values.isEmpty()) {
        throw new IllegalArgumentException(name + " must have at least one level");
      }
      List<float[]> copy = new ArrayList<>(values.size());
      for (int l = 0; l < values.size(); l++) {
        float[] v = values.get(l);
        if (v == null || v.length == 0) {
          throw new IllegalArgumentException(name + "[" + l + "] must not be empty");
        }
        for (float x : v) {
          if (!(x > 0f) || Float.isInfinite(x)) {
            throw new IllegalArgumentException(
                name + "[" + l + "] must be finite and > 0, got " + Arrays.toString(v));
          }
        }
        copy.add(v.clone());
      }
      return Collections.unmodifiableList(copy);
    }
  }
}
