package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.jdetect.core.coder.BoxLinearCoder;
import dev.jdetect.core.loss.DetectionLosses;
import dev.jdetect.core.loss.Reduction;
import dev.jdetect.core.match.FcosMatcher;
import dev.jdetect.core.nd.Scalars;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/**
 * FCOS's training loss, as torchvision's {@code FCOS.compute_loss} and {@code
 * FCOSHead.compute_loss}.
 *
 * <p>Matching: a location (anchor point) belongs to a ground-truth box if its centre lies inside
 * the box, within {@code centerSamplingRadius} (1.5) strides of the box centre, and the largest of
 * its four distances to the box edges lies in its level's range ({@code (4, 8)} strides; the first
 * level has no lower bound, the last no upper bound); of several such boxes the smallest wins.
 *
 * <p>Losses, each summed over the whole batch and divided by {@code max(1, number of foreground
 * locations in the batch)}: the sigmoid focal loss over every location and class against one-hot
 * targets; the generalized IoU loss of the decoded boxes of the foreground; the binary cross
 * entropy of the centre-ness logits of the foreground against {@code sqrt(min(l, r) / max(l, r) *
 * min(t, b) / max(t, b))}.
 */
public final class FcosLoss {

  /**
   * The three losses of a batch.
   *
   * @param classification the focal loss
   * @param boxRegression the GIoU loss
   * @param centerness the centre-ness loss
   */
  public record Losses(NDArray classification, NDArray boxRegression, NDArray centerness) {}

  private static final float GIOU_EPS = 1e-7f;

  private final FcosMatcher matcher;
  private final BoxLinearCoder coder = new BoxLinearCoder(true);

  /**
   * Creates the loss.
   *
   * @param centerSamplingRadius how many strides from a box centre a location may be to belong to
   *     it (torchvision: 1.5)
   * @throws IllegalArgumentException if the radius is not positive
   */
  public FcosLoss(float centerSamplingRadius) {
    this.matcher = new FcosMatcher(centerSamplingRadius);
  }

  /**
   * Computes the losses of a batch.
   *
   * @param predictions the head's outputs
   * @param anchors {@code (T, 4)} anchors, one square of the level's stride per location
   * @param targets one target per image, in the pixels of the transformed batch
   * @return the three losses, in the caller's scope
   * @throws IllegalArgumentException if the counts disagree
   */
  public Losses compute(
      FcosHead.Predictions predictions, NDArray anchors, List<ImageTargets> targets) {
    long numImages = predictions.logits().getShape().get(0);
    if (numImages != targets.size()) {
      throw new IllegalArgumentException(
          "the batch has " + numImages + " images but " + targets.size() + " targets");
    }
    Losses result;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      int numLogits = (int) predictions.logits().getShape().get(2);
      NDList classTargets = new NDList(targets.size());
      NDList boxTargets = new NDList(targets.size());
      NDList foregrounds = new NDList(targets.size());
      for (ImageTargets target : targets) {
        NDArray matched =
            matcher.match(
                anchors,
                target.boxes().toType(DataType.FLOAT32, false),
                predictions.pointsPerLevel());
        NDArray foreground = matched.gte(0L);
        NDArray safe = matched.maximum(0L);
        if (target.size() == 0) {
          classTargets.add(predictions.logits().get(0).zerosLike());
          boxTargets.add(anchors.zerosLike());
        } else {
          NDArray labels = target.labels().toType(DataType.INT64, false).get(safe);
          NDArray oneHot = labels.oneHot(numLogits).toType(DataType.FLOAT32, false);
          classTargets.add(oneHot.mul(foreground.expandDims(1).toType(DataType.FLOAT32, false)));
          boxTargets.add(target.boxes().get(safe));
        }
        foregrounds.add(foreground);
      }
      NDArray foreground = NDArrays.stack(foregrounds, 0).reshape(-1);
      long numForeground = foreground.sum().getLong();
      float norm = Math.max(1, numForeground);
      NDArray fgIndex = foreground.nonzero().reshape(-1);

      NDArray classification =
          DetectionLosses.sigmoidFocal(
              predictions.logits(),
              NDArrays.stack(classTargets, 0),
              DetectionLosses.DEFAULT_FOCAL_ALPHA,
              DetectionLosses.DEFAULT_FOCAL_GAMMA,
              Reduction.SUM);
      NDArray allAnchors = anchors.tile(new long[] {numImages, 1}).get(fgIndex);
      NDArray gtBoxes = NDArrays.concat(boxTargets, 0).get(fgIndex);
      NDArray distances = predictions.distances().reshape(-1, 4).get(fgIndex);
      NDArray boxLoss =
          DetectionLosses.generalizedIouLoss(
              coder.decode(distances, allAnchors), gtBoxes, Reduction.SUM, GIOU_EPS);
      NDArray centerness = predictions.centerness().reshape(-1).get(fgIndex);
      NDArray centernessLoss =
          DetectionLosses.binaryCrossEntropyWithLogits(
                  centerness, centernessTarget(coder.encode(allAnchors, gtBoxes)))
              .sum();
      result =
          new Losses(
              Scalars.div(classification, norm),
              Scalars.div(boxLoss, norm),
              Scalars.div(centernessLoss, norm));
      NDScope.unregister(result.classification(), result.boxRegression(), result.centerness());
    }
    NDScope.register(result.classification());
    NDScope.register(result.boxRegression());
    NDScope.register(result.centerness());
    return result;
  }

  /** {@code sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b))} of {@code (K, 4)} distances. */
  private static NDArray centernessTarget(NDArray distances) {
    NDList d = distances.split(4, 1);
    NDArray leftRight = d.get(0).minimum(d.get(2)).div(d.get(0).maximum(d.get(2)));
    NDArray topBottom = d.get(1).minimum(d.get(3)).div(d.get(1).maximum(d.get(3)));
    return leftRight.mul(topBottom).sqrt().reshape(-1);
  }
}
