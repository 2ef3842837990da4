package dev.jdetect.core.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.jdetect.core.nd.Scalars;

/**
 * Element-wise detection losses with PyTorch / torchvision semantics. Every method returns the
 * unreduced loss (the caller sums or averages), stays on the inputs' device, and is differentiable
 * with respect to its floating inputs (gradients match PyTorch's, including at the kinks). NaN
 * inputs propagate as in PyTorch; invalid shapes, labels and parameters throw {@link
 * IllegalArgumentException}.
 */
public final class DetectionLosses {

  /** PyTorch's default {@code ignore_index} for cross entropy. */
  public static final long DEFAULT_IGNORE_INDEX = -100;

  /** torchvision's default focal {@code alpha}. */
  public static final float DEFAULT_FOCAL_ALPHA = 0.25f;

  /** torchvision's default focal {@code gamma}. */
  public static final float DEFAULT_FOCAL_GAMMA = 2f;

  private DetectionLosses() {}

  /**
   * Smooth L1 (Huber-like) loss, {@code torch.nn.functional.smooth_l1_loss(reduction="none")}:
   * {@code 0.5 * d^2 / beta} where {@code |d| < beta}, else {@code |d| - 0.5 * beta}; {@code beta =
   * 0} is plain L1. torchvision uses {@code beta = 1/9} in the R-CNN heads and 1 in SSD. At a zero
   * difference the gradient is 0 for every beta (for {@code beta = 0} that is {@code F.l1_loss}'s
   * choice; PyTorch's smooth-L1 kernel happens to return the subgradient -1 there).
   *
   * @param input the prediction, floating, any shape
   * @param target the target, same shape as {@code input}
   * @param beta the switch point, finite and {@code >= 0}
   * @return the loss, same shape as {@code input}
   * @throws IllegalArgumentException on a shape mismatch or an invalid beta
   */
  public static NDArray smoothL1(NDArray input, NDArray target, float beta) {
    checkFloating(input, "input");
    checkSameShape(target, "target", input, "input");
    if (!Float.isFinite(beta) || beta < 0) {
      throw new IllegalArgumentException("beta must be finite and >= 0, got " + beta);
    }
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray absDiff = input.sub(target).abs();
      if (beta == 0f) {
        result = absDiff;
      } else {
        NDArray quadratic = Scalars.div(Scalars.mul(absDiff, 0.5f).mul(absDiff), beta);
        NDArray linear = absDiff.sub(0.5f * beta);
        result = NDArrays.where(absDiff.lt(beta), quadratic, linear);
      }
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Cross entropy per element with PyTorch's default ignore index -100.
   *
   * @param logits floating (..., C) class scores
   * @param labels integer (...) class indices in [0, C) or -100
   * @return float (...) loss, 0 where ignored
   * @see #crossEntropy(NDArray, NDArray, long)
   */
  public static NDArray crossEntropy(NDArray logits, NDArray labels) {
    return crossEntropy(logits, labels, DEFAULT_IGNORE_INDEX);
  }

  /**
   * Cross entropy per element, {@code F.cross_entropy(reduction="none", ignore_index=...)} with
   * classes on the last axis: {@code -logSoftmax(logits)[label]}, 0 where {@code label ==
   * ignoreIndex} (with zero gradient there). Works for any leading shape, e.g. (N, A, C) logits
   * with (N, A) labels.
   *
   * @param logits floating (..., C) class scores, C {@code >= 1}
   * @param labels integer (...) class indices in [0, C) or {@code ignoreIndex}
   * @param ignoreIndex the label value to ignore
   * @return (...) loss in the logits' data type, 0 where ignored
   * @throws IllegalArgumentException on mismatched shapes or a label outside [0, C) that is not
   *     {@code ignoreIndex}
   */
  public static NDArray crossEntropy(NDArray logits, NDArray labels, long ignoreIndex) {
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      LogProbability picked = pickLogProbability(logits, labels, ignoreIndex);
      result =
          NDArrays.where(
              picked.ignored, picked.logProbability.zerosLike(), picked.logProbability.neg());
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Binary cross entropy on logits, {@code F.binary_cross_entropy_with_logits(reduction="none")},
   * computed as {@code (1 - t) * x + softplus(-x)} without overflow for any finite logit; the
   * gradient is {@code sigmoid(x) - t}.
   *
   * @param logits floating logits, any shape
   * @param targets floating targets (hard or soft, normally in [0, 1]), same shape
   * @return the loss, same shape as {@code logits}
   * @throws IllegalArgumentException on a shape mismatch
   */
  public static NDArray binaryCrossEntropyWithLogits(NDArray logits, NDArray targets) {
    checkFloating(logits, "logits");
    checkSameShape(targets, "targets", logits, "logits");
    checkFloating(targets, "targets");
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      result = bceWithLogits(logits, targets);
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Sigmoid focal loss with torchvision's defaults {@code alpha = 0.25}, {@code gamma = 2}.
   *
   * @param logits floating logits, any shape
   * @param targets floating binary targets, same shape
   * @return the loss, same shape as {@code logits}
   * @see #sigmoidFocal(NDArray, NDArray, float, float)
   */
  public static NDArray sigmoidFocal(NDArray logits, NDArray targets) {
    return sigmoidFocal(logits, targets, DEFAULT_FOCAL_ALPHA, DEFAULT_FOCAL_GAMMA);
  }

  /**
   * Sigmoid focal loss, {@code torchvision.ops.sigmoid_focal_loss(reduction="none")}: {@code
   * alpha_t * (1 - p_t)^gamma * bce(x, t)} with {@code p = sigmoid(x)}, {@code p_t = p t + (1 -
   * p)(1 - t)}, {@code alpha_t = alpha t + (1 - alpha)(1 - t)}; a negative {@code alpha} turns the
   * alpha weighting off.
   *
   * @param logits floating logits, any shape
   * @param targets floating binary targets, same shape
   * @param alpha the positive weight in [0, 1], or negative for none
   * @param gamma the focusing exponent, finite and {@code >= 0}
   * @return the loss, same shape as {@code logits}
   * @throws IllegalArgumentException on a shape mismatch or invalid alpha / gamma
   */
  public static NDArray sigmoidFocal(NDArray logits, NDArray targets, float alpha, float gamma) {
    checkFloating(logits, "logits");
    checkSameShape(targets, "targets", logits, "logits");
    checkFloating(targets, "targets");
    if (!Float.isFinite(alpha) || alpha > 1) {
      throw new IllegalArgumentException(
          "alpha must be in [0, 1] (or negative to disable), got " + alpha);
    }
    checkGamma(gamma);
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray p = Activation.sigmoid(logits);
      NDArray ce = bceWithLogits(logits, targets);
      NDArray oneMinusP = p.neg().add(1f);
      NDArray oneMinusT = targets.neg().add(1f);
      NDArray pT = p.mul(targets).add(oneMinusP.mul(oneMinusT));
      result = ce.mul(Scalars.pow(pT.neg().add(1f), gamma));
      if (alpha >= 0) {
        NDArray alphaT = Scalars.mul(targets, alpha).add(Scalars.mul(oneMinusT, 1f - alpha));
        result = alphaT.mul(result);
      }
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Sigmoid focal loss with a reduction, {@code torchvision.ops.sigmoid_focal_loss(inputs, targets,
   * alpha, gamma, reduction)}.
   *
   * @param logits floating logits, any shape
   * @param targets floating binary targets, same shape
   * @param alpha the positive weight in [0, 1], or negative for none
   * @param gamma the focusing exponent, finite and {@code >= 0}
   * @param reduction none, mean or sum
   * @return the loss, reduced as asked
   * @throws IllegalArgumentException on a shape mismatch or invalid alpha / gamma
   * @see #sigmoidFocal(NDArray, NDArray, float, float)
   */
  public static NDArray sigmoidFocal(
      NDArray logits, NDArray targets, float alpha, float gamma, Reduction reduction) {
    NDArray loss = sigmoidFocal(logits, targets, alpha, gamma);
    if (reduction == Reduction.NONE) {
      return loss;
    }
    NDArray reduced = reduction.apply(loss);
    loss.close();
    return reduced;
  }

  /**
   * Generalized IoU loss of paired boxes, {@code torchvision.ops.generalized_box_iou_loss}: {@code
   * 1 - iou + (enclosing - union) / (enclosing + eps)} with {@code iou = inter / (union + eps)},
   * row {@code i} of {@code boxes1} against row {@code i} of {@code boxes2}. Non-float inputs are
   * computed in float32. The gradient flows to both box sets; where two boxes do not overlap the
   * intersection contributes none, as in torchvision. The mean of no boxes is 0 (torchvision's
   * {@code 0.0 * loss.sum()}), not NaN.
   *
   * @param boxes1 {@code (..., 4)} boxes {@code (x1, y1, x2, y2)}
   * @param boxes2 boxes of the same shape
   * @param reduction none, mean or sum
   * @param eps the small number that keeps the divisions finite (torchvision: 1e-7)
   * @return the loss: {@code (...)} for {@link Reduction#NONE}, else a scalar
   * @throws IllegalArgumentException if the shapes differ or the last axis is not 4
   */
  public static NDArray generalizedIouLoss(
      NDArray boxes1, NDArray boxes2, Reduction reduction, float eps) {
    checkSameShape(boxes2, "boxes2", boxes1, "boxes1");
    Shape shape = boxes1.getShape();
    if (shape.dimension() < 1 || shape.get(shape.dimension() - 1) != 4) {
      throw new IllegalArgumentException("boxes1 must have shape (..., 4), got " + shape);
    }
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      int axis = shape.dimension() - 1;
      NDList a = toFloat(boxes1).split(4, axis);
      NDList g = toFloat(boxes2).split(4, axis);
      NDArray left = a.get(0).maximum(g.get(0));
      NDArray top = a.get(1).maximum(g.get(1));
      NDArray right = a.get(2).minimum(g.get(2));
      NDArray bottom = a.get(3).minimum(g.get(3));
      NDArray overlaps = bottom.gt(top).logicalAnd(right.gt(left));
      NDArray product = right.sub(left).mul(bottom.sub(top));
      NDArray inter = NDArrays.where(overlaps, product, product.zerosLike());
      NDArray area1 = a.get(2).sub(a.get(0)).mul(a.get(3).sub(a.get(1)));
      NDArray area2 = g.get(2).sub(g.get(0)).mul(g.get(3).sub(g.get(1)));
      NDArray union = area1.add(area2).sub(inter);
      NDArray iou = inter.div(union.add(eps));
      NDArray enclosing =
          a.get(2)
              .maximum(g.get(2))
              .sub(a.get(0).minimum(g.get(0)))
              .mul(a.get(3).maximum(g.get(3)).sub(a.get(1).minimum(g.get(1))));
      NDArray penalty = enclosing.sub(union).div(enclosing.add(eps));
      NDArray loss = iou.sub(penalty).neg().add(1f).squeeze(axis);
      if (reduction == Reduction.MEAN && loss.size() == 0) {
        result = loss.sum();
      } else {
        result = reduction.apply(loss);
      }
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Softmax (multi-class) focal loss per element: {@code -alpha * (1 - p_t)^gamma * log(p_t)} with
   * {@code p_t} the softmax probability of the label, 0 where {@code label == ignoreIndex}. With
   * {@code alpha = 1} and {@code gamma = 0} it equals {@link #crossEntropy(NDArray, NDArray,
   * long)}.
   *
   * @param logits floating (..., C) class scores
   * @param labels integer (...) class indices in [0, C) or {@code ignoreIndex}
   * @param alpha the scalar weight, finite and {@code >= 0}
   * @param gamma the focusing exponent, finite and {@code >= 0}
   * @param ignoreIndex the label value to ignore
   * @return (...) loss, 0 where ignored
   * @throws IllegalArgumentException on mismatched shapes, invalid labels or parameters
   */
  public static NDArray softmaxFocal(
      NDArray logits, NDArray labels, float alpha, float gamma, long ignoreIndex) {
    if (!Float.isFinite(alpha) || alpha < 0) {
      throw new IllegalArgumentException("alpha must be finite and >= 0, got " + alpha);
    }
    checkGamma(gamma);
    NDArray result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      LogProbability picked = pickLogProbability(logits, labels, ignoreIndex);
      NDArray logPt = picked.logProbability;
      NDArray modulation = Scalars.pow(logPt.exp().neg().add(1f), gamma);
      NDArray loss = Scalars.mul(modulation, -alpha).mul(logPt);
      result = NDArrays.where(picked.ignored, loss.zerosLike(), loss);
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /** {@code (1 - t) * x + softplus(-x)}; caller manages the scope. */
  private static NDArray bceWithLogits(NDArray logits, NDArray targets) {
    return targets.neg().add(1f).mul(logits).add(softplus(logits.neg()));
  }

  /**
   * {@code log(1 + exp(z))} without overflow and with the exact gradient {@code sigmoid(z)}
   * everywhere, including z = 0. Each branch only ever sees inputs from its own side (the other
   * side gets 0), so the unselected branch can't produce inf or NaN in the backward pass.
   */
  private static NDArray softplus(NDArray z) {
    NDArray zero = z.zerosLike();
    NDArray positive = z.gt(0f);
    NDArray zPos = NDArrays.where(positive, z, zero);
    NDArray zNeg = NDArrays.where(positive, zero, z);
    NDArray upper = zPos.add(zPos.neg().exp().add(1f).log());
    NDArray lower = zNeg.exp().add(1f).log();
    return NDArrays.where(positive, upper, lower);
  }

  /** Log-probability of each label and the ignore mask; caller manages the scope. */
  private static LogProbability pickLogProbability(
      NDArray logits, NDArray labels, long ignoreIndex) {
    if (logits == null) {
      throw new IllegalArgumentException("logits must not be null");
    }
    if (labels == null) {
      throw new IllegalArgumentException("labels must not be null");
    }
    checkFloating(logits, "logits");
    Shape logitShape = logits.getShape();
    if (logitShape.dimension() < 1 || logitShape.get(logitShape.dimension() - 1) < 1) {
      throw new IllegalArgumentException(
          "logits must have shape (..., C) with C >= 1, got " + logitShape);
    }
    long numClasses = logitShape.get(logitShape.dimension() - 1);
    Shape expected = logitShape.slice(0, logitShape.dimension() - 1);
    if (!labels.getShape().equals(expected)) {
      throw new IllegalArgumentException(
          "labels must have shape "
              + expected
              + " (logits "
              + logitShape
              + " without the class axis), got "
              + labels.getShape());
    }
    DataType type = labels.getDataType();
    if (!type.isInteger()) {
      throw new IllegalArgumentException("labels must be an integer array, got " + type);
    }
    NDArray longLabels = labels.toType(DataType.INT64, false);
    NDArray ignored = longLabels.eq(ignoreIndex);
    NDArray outOfRange = longLabels.lt(0L).logicalOr(longLabels.gte(numClasses));
    NDArray invalid = outOfRange.logicalAnd(ignored.logicalNot());
    if (expected.size() > 0 && invalid.any().getBoolean()) {
      long bad = longLabels.booleanMask(invalid).toLongArray()[0];
      throw new IllegalArgumentException(
          "labels must be in [0, "
              + numClasses
              + ") or equal ignoreIndex "
              + ignoreIndex
              + ", got "
              + bad
              + " (labels shape "
              + labels.getShape()
              + ")");
    }
    NDArray safeLabels = NDArrays.where(ignored, longLabels.zerosLike(), longLabels);
    // logSoftmax and a gather, not DJL's SoftmaxCrossEntropyLoss: that mis-shapes (N, A) labels on
    // the PyTorch engine.
    NDArray logProbability =
        logits.logSoftmax(-1).gather(safeLabels.expandDims(-1), -1).squeeze(-1);
    return new LogProbability(logProbability, ignored);
  }

  /** torchvision's {@code _upcast_non_float}: anything but float32/64 becomes float32. */
  private static NDArray toFloat(NDArray boxes) {
    DataType type = boxes.getDataType();
    return type == DataType.FLOAT32 || type == DataType.FLOAT64
        ? boxes
        : boxes.toType(DataType.FLOAT32, false);
  }

  private static void checkFloating(NDArray array, String name) {
    if (array == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    if (!array.getDataType().isFloating()) {
      throw new IllegalArgumentException(
          name
              + " must be a floating-point array, got "
              + array.getDataType()
              + " of shape "
              + array.getShape());
    }
  }

  private static void checkSameShape(NDArray array, String name, NDArray like, String likeName) {
    if (array == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    if (!array.getShape().equals(like.getShape())) {
      throw new IllegalArgumentException(
          name
              + " must have the shape of "
              + likeName
              + " "
              + like.getShape()
              + ", got "
              + array.getShape());
    }
  }

  private static void checkGamma(float gamma) {
    if (!Float.isFinite(gamma) || gamma < 0) {
      throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
    }
  }

  /** A label's log-probability with its ignore mask. */
  private static final class LogProbability {
    final NDArray logProbability;
    final NDArray ignored;

    LogProbability(NDArray logProbability, NDArray ignored) {
      this.logProbability = logProbability;
      this.ignored = ignored;
    }
  }
}
