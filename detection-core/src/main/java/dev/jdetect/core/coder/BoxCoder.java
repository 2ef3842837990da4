package dev.jdetect.core.coder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.Scalars;
import java.util.Arrays;

/**
 * Encodes boxes as regression deltas relative to reference boxes (anchors, proposals, default
 * boxes) and decodes deltas back to boxes, with the semantics of torchvision's {@code
 * models.detection._utils.BoxCoder}.
 *
 * <p>With an anchor of width {@code wa}, height {@code ha} and centre {@code (xa, ya)} (widths are
 * {@code x2 - x1}, no "+1") and weights {@code (wx, wy, ww, wh)}:
 *
 * <pre>
 * dx = wx * (x - xa) / wa      dy = wy * (y - ya) / ha
 * dw = ww * log(w / wa)        dh = wh * log(h / ha)
 * </pre>
 *
 * Decoding inverts this and first clamps {@code dw / ww} and {@code dh / wh} from above at {@code
 * bboxXformClip} (default {@code log(1000 / 16)}), so huge predicted deltas cannot overflow {@code
 * exp}. The Region Proposal Network uses weights {@code (1, 1, 1, 1)}; the Fast R-CNN box head and
 * SSD use {@code (10, 10, 5, 5)}.
 *
 * <p>Both directions are plain NDArray ops on the caller's device and keep autograd. Instances are
 * immutable and thread-safe.
 */
public final class BoxCoder {

  /** torchvision's default clamp for decoded {@code dw}, {@code dh}: {@code log(1000 / 16)}. */
  public static final double DEFAULT_BBOX_XFORM_CLIP = Math.log(1000.0 / 16);

  private final float wx;
  private final float wy;
  private final float ww;
  private final float wh;
  private final double bboxXformClip;

  private BoxCoder(Builder builder) {
    this.wx = builder.wx;
    this.wy = builder.wy;
    this.ww = builder.ww;
    this.wh = builder.wh;
    this.bboxXformClip = builder.bboxXformClip;
  }

  /**
   * Returns a builder with torchvision's defaults: weights {@code (1, 1, 1, 1)}, clamp {@code
   * log(1000 / 16)}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the weights {@code (wx, wy, ww, wh)}.
   *
   * @return a copy of the four weights
   */
  public float[] getWeights() {
    return new float[] {wx, wy, ww, wh};
  }

  /**
   * Returns the upper clamp applied to {@code dw / ww} and {@code dh / wh} before {@code exp}.
   *
   * @return the clamp value
   */
  public double getBboxXformClip() {
    return bboxXformClip;
  }

  /**
   * Encodes each matched ground-truth box relative to its anchor (torchvision's {@code
   * encode_single(matched_gt, anchors)}).
   *
   * @param matchedGt {@code (N, 4)} xyxy target boxes, row {@code i} matched to anchor {@code i}
   * @param anchors {@code (N, 4)} xyxy reference boxes with positive width and height
   * @return {@code (N, 4)} deltas {@code (dx, dy, dw, dh)}, dtype of {@code matchedGt}, attached to
   *     {@code matchedGt}'s manager
   * @throws IllegalArgumentException if the shapes are not both {@code (N, 4)} with the same N, or
   *     the arrays are on different devices
   */
  public NDArray encode(NDArray matchedGt, NDArray anchors) {
    requireBoxes(matchedGt, "matchedGt");
    requireBoxes(anchors, "anchors");
    if (matchedGt.getShape().get(0) != anchors.getShape().get(0)) {
      throw new IllegalArgumentException(
          "matchedGt and anchors must have the same number of rows, got matchedGt "
              + matchedGt.getShape()
              + " and anchors "
              + anchors.getShape());
    }
    requireSameDevice(matchedGt, "matchedGt", anchors, "anchors");
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray gt = toFloating(matchedGt);
      NDArray ref = anchors.toType(gt.getDataType(), false);
      NDList a = ref.split(4, 1);
      NDList g = gt.split(4, 1);
      NDArray exW = a.get(2).sub(a.get(0));
      NDArray exH = a.get(3).sub(a.get(1));
      NDArray exCx = a.get(0).add(Scalars.mul(exW, 0.5f));
      NDArray exCy = a.get(1).add(Scalars.mul(exH, 0.5f));
      NDArray gtW = g.get(2).sub(g.get(0));
      NDArray gtH = g.get(3).sub(g.get(1));
      NDArray gtCx = g.get(0).add(Scalars.mul(gtW, 0.5f));
      NDArray gtCy = g.get(1).add(Scalars.mul(gtH, 0.5f));
      NDArray dx = Scalars.mul(gtCx.sub(exCx), wx).div(exW);
      NDArray dy = Scalars.mul(gtCy.sub(exCy), wy).div(exH);
      NDArray dw = Scalars.mul(gtW.div(exW).log(), ww);
      NDArray dh = Scalars.mul(gtH.div(exH).log(), wh);
      out = NDArrays.concat(new NDList(dx, dy, dw, dh), 1);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  /**
   * Decodes deltas relative to anchors into xyxy boxes (torchvision's {@code decode_single}).
   *
   * <p>The last axis of {@code deltas} holds {@code K >= 1} groups of {@code (dx, dy, dw, dh)} (one
   * per class for a class-specific box head). With {@code deltas} of shape {@code (..., N, 4K)}
   * every group in row {@code n} is decoded against anchor {@code n}; leading axes broadcast, so
   * {@code (B, N, 4)} deltas decode a batch against one anchor set. torchvision's {@code (N, 4K)}
   * is the common case.
   *
   * @param deltas {@code (..., N, 4K)} regression deltas
   * @param anchors {@code (N, 4)} xyxy reference boxes
   * @return boxes of the same shape as {@code deltas}, in xyxy, attached to {@code deltas}'s
   *     manager
   * @throws IllegalArgumentException if {@code deltas} has fewer than two axes, a last axis that is
   *     not a positive multiple of 4, a row count different from {@code anchors}', or lives on
   *     another device
   */
  public NDArray decode(NDArray deltas, NDArray anchors) {
    requireBoxes(anchors, "anchors");
    if (deltas == null) {
      throw new IllegalArgumentException("deltas must not be null");
    }
    Shape ds = deltas.getShape();
    int nd = ds.dimension();
    if (nd < 2 || ds.get(nd - 1) % 4 != 0 || ds.get(nd - 1) == 0) {
      throw new IllegalArgumentException(
          "deltas must have shape (..., N, 4K) with K >= 1, got " + ds);
    }
    if (ds.get(nd - 2) != anchors.getShape().get(0)) {
      throw new IllegalArgumentException(
          "deltas rows must match anchors: deltas "
              + ds
              + " has "
              + ds.get(nd - 2)
              + " rows, anchors "
              + anchors.getShape()
              + " has "
              + anchors.getShape().get(0));
    }
    requireNumeric(deltas, "deltas");
    requireSameDevice(deltas, "deltas", anchors, "anchors");
    long k = ds.get(nd - 1) / 4;
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray rel = toFloating(deltas);
      // (..., N, K, 4) deltas against (N, 1, 4) anchors.
      long[] grouped = Arrays.copyOf(ds.getShape(), nd + 1);
      grouped[nd - 1] = k;
      grouped[nd] = 4;
      NDList d = rel.reshape(new Shape(grouped)).split(4, nd);
      NDArray ref = anchors.toType(rel.getDataType(), false);
      NDList a = ref.reshape(ds.get(nd - 2), 1, 4).split(4, 2);
      NDArray widths = a.get(2).sub(a.get(0));
      NDArray heights = a.get(3).sub(a.get(1));
      NDArray ctrX = a.get(0).add(Scalars.mul(widths, 0.5f));
      NDArray ctrY = a.get(1).add(Scalars.mul(heights, 0.5f));
      NDArray dx = Scalars.div(d.get(0), wx);
      NDArray dy = Scalars.div(d.get(1), wy);
      NDArray dw = Scalars.div(d.get(2), ww).clip(Float.NEGATIVE_INFINITY, (float) bboxXformClip);
      NDArray dh = Scalars.div(d.get(3), wh).clip(Float.NEGATIVE_INFINITY, (float) bboxXformClip);
      NDArray predCx = dx.mul(widths).add(ctrX);
      NDArray predCy = dy.mul(heights).add(ctrY);
      NDArray halfW = Scalars.mul(dw.exp().mul(widths), 0.5f);
      NDArray halfH = Scalars.mul(dh.exp().mul(heights), 0.5f);
      NDArray boxes =
          NDArrays.concat(
              new NDList(
                  predCx.sub(halfW), predCy.sub(halfH), predCx.add(halfW), predCy.add(halfH)),
              nd);
      out = boxes.reshape(ds);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  @Override
  public String toString() {
    return "BoxCoder(weights=("
        + wx
        + ", "
        + wy
        + ", "
        + ww
        + ", "
        + wh
        + "), bboxXformClip="
        + bboxXformClip
        + ")";
  }

  private static NDArray toFloating(NDArray array) {
    return array.getDataType().isFloating() ? array : array.toType(DataType.FLOAT32, false);
  }

  private static void requireBoxes(NDArray boxes, String argName) {
    if (boxes == null) {
      throw new IllegalArgumentException(argName + " must not be null");
    }
    Shape s = boxes.getShape();
    if (s.dimension() != 2 || s.get(1) != 4) {
      throw new IllegalArgumentException(argName + " must have shape (N, 4), got " + s);
    }
    requireNumeric(boxes, argName);
  }

  private static void requireNumeric(NDArray array, String argName) {
    DataType t = array.getDataType();
    if (!t.isFloating() && !t.isInteger()) {
      throw new IllegalArgumentException(argName + " must be a numeric array, got dtype " + t);
    }
  }

  private static void requireSameDevice(NDArray a, String nameA, NDArray b, String nameB) {
    if (!a.getDevice().equals(b.getDevice())) {
      throw new IllegalArgumentException(
          nameA + " is on " + a.getDevice() + " but " + nameB + " is on " + b.getDevice());
    }
  }

  /** Builder for {@link BoxCoder}; defaults follow torchvision. */
  public static final class Builder {

    private float wx = 1f;
    private float wy = 1f;
    private float ww = 1f;
    private float wh = 1f;
    private double bboxXformClip = DEFAULT_BBOX_XFORM_CLIP;

    private Builder() {}

    /**
     * Sets the weights {@code (wx, wy, ww, wh)}; default {@code (1, 1, 1, 1)}.
     *
     * @param wx weight of the x-centre delta, finite and positive
     * @param wy weight of the y-centre delta, finite and positive
     * @param ww weight of the log-width delta, finite and positive
     * @param wh weight of the log-height delta, finite and positive
     * @return this builder
     * @throws IllegalArgumentException if a weight is not finite and positive
     */
    public Builder optWeights(float wx, float wy, float ww, float wh) {
      float[] w = {wx, wy, ww, wh};
      String[] names = {"wx", "wy", "ww", "wh"};
      for (int i = 0; i < 4; i++) {
        if (!(w[i] > 0f) || Float.isInfinite(w[i])) {
          throw new IllegalArgumentException(
              "weight " + names[i] + " must be finite and > 0, got " + w[i]);
        }
      }
      this.wx = wx;
      this.wy = wy;
      this.ww = ww;
      this.wh = wh;
      return this;
    }

    /**
     * Sets the upper clamp for {@code dw / ww} and {@code dh / wh} before {@code exp}; default
     * {@code log(1000 / 16)}.
     *
     * @param bboxXformClip the clamp, not NaN (positive infinity disables it)
     * @return this builder
     * @throws IllegalArgumentException if the value is NaN
     */
    public Builder optBboxXformClip(double bboxXformClip) {
      if (Double.isNaN(bboxXformClip)) {
        throw new IllegalArgumentException("bboxXformClip must not be NaN");
      }
      this.bboxXformClip = bboxXformClip;
      return this;
    }

    /**
     * Builds the coder.
     *
     * @return a new immutable {@link BoxCoder}
     */
    public BoxCoder build() {
      return new BoxCoder(this);
    }
  }
}
