package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.nd.Scalars;

/**
 * The training losses of the box head (torchvision's {@code fastrcnn_loss}): the cross-entropy of
 * the sampled RoIs' class logits ({@code loss_classifier}) and the smooth-L1 of the deltas the
 * predictor gives the positives' ground-truth class ({@code loss_box_reg}), both summed and divided
 * by the number of sampled RoIs.
 *
 * <p>Default smooth-L1 beta 1/9, as torchvision.
 */
public final class FastRcnnLoss {

  /**
   * The two box-head losses.
   *
   * @param classifier the scalar {@code loss_classifier}
   * @param boxRegression the scalar {@code loss_box_reg}
   */
  public record Losses(NDArray classifier, NDArray boxRegression) {}

  private final float boxLossBeta;

  private FastRcnnLoss(Builder b) {
    this.boxLossBeta = b.boxLossBeta;
  }

  /**
   * Returns a builder with torchvision's defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Computes the losses of the sampled RoIs of a batch.
   *
   * @param classLogits {@code (S, C+1)} class logits of the sampled RoIs
   * @param boxRegression {@code (S, 4(C+1))} class-specific deltas of the sampled RoIs
   * @param samples the sampled RoIs with their labels and regression targets
   * @return the losses, named {@code loss_classifier} and {@code loss_box_reg}, on the logits'
   *     manager
   * @throws IllegalArgumentException if the predictions do not have one row per sampled RoI
   */
  public Losses compute(NDArray classLogits, NDArray boxRegression, RoiSampler.Samples samples) {
    long sampled = samples.size();
    Shape ls = classLogits.getShape();
    if (ls.dimension() != 2
        || ls.get(0) != sampled
        || !boxRegression.getShape().equals(new Shape(sampled, 4 * ls.get(1)))) {
      throw new IllegalArgumentException(
          "class logits must be (S, C+1) and box regression (S, 4(C+1)) for the S = "
              + sampled
              + " sampled RoIs, got "
              + ls
              + " and "
              + boxRegression.getShape());
    }
    NDArray classifierLoss;
    NDArray boxLoss;
    if (sampled == 0) {
      classifierLoss = zero(classLogits);
      boxLoss = zero(boxRegression);
    } else {
      classifierLoss =
          Scalars.div(
              DetectionLosses.crossEntropy(classLogits, samples.labels()).sum(), (float) sampled);
      NDArray rows = samples.positiveRows();
      if (rows.getShape().get(0) == 0) {
        boxLoss = zero(boxRegression);
      } else {
        int classes = (int) classLogits.getShape().get(1);
        NDArray cls = samples.labels().get(rows);
        NDArray flat = boxRegression.reshape(sampled * classes, 4);
        NDArray picked = flat.get(rows.mul(classes).add(cls));
        NDArray smoothL1 =
            DetectionLosses.smoothL1(picked, samples.regressionTargets(), boxLossBeta);
        boxLoss = Scalars.div(smoothL1.sum(), (float) sampled);
      }
    }
    classifierLoss.setName("loss_classifier");
    boxLoss.setName("loss_box_reg");
    return new Losses(classifierLoss, boxLoss);
  }

  /** A zero that keeps the graph of {@code x}, so that the backward pass reaches its inputs. */
  private static NDArray zero(NDArray x) {
    return Scalars.mul(x.sum(), 0f).abs();
  }

  /** A builder of {@link FastRcnnLoss} with torchvision's defaults. */
  public static final class Builder {

    private float boxLossBeta = 1f / 9;

    private Builder() {}

    /**
     * Sets the smooth-L1 beta of the box loss.
     *
     * @param beta default 1/9
     * @return this builder
     */
    public Builder optBoxLossBeta(float beta) {
      this.boxLossBeta = beta;
      return this;
    }

    /**
     * Builds the loss.
     *
     * @return the loss
     * @throws IllegalArgumentException if beta is negative
     */
    public FastRcnnLoss build() {
      if (!(boxLossBeta >= 0)) {
        throw new IllegalArgumentException("beta must be >= 0, got " + boxLossBeta);
      }
      return new FastRcnnLoss(this);
    }
  }
}
