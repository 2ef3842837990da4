package dev.jdetect.models.dense;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;

/**
 * FCOS's head (torchvision's {@code FCOSHead}): a classification branch ({@code
 * classification_head}: four 3x3 conv + GroupNorm(32) + ReLU, then {@code cls_logits} whose bias
 * starts at the prior probability 0.01) and a regression branch ({@code regression_head}: the same
 * tower, then {@code bbox_reg}, four non-negative distances after a ReLU, and {@code bbox_ctrness},
 * the centre-ness logit), both shared by every level and laid out flat ({@code conv.0}, {@code
 * conv.1}, ...) as torchvision's.
 *
 * <p>As for {@link RetinaNetHead}, the logits per location are torchvision's {@code num_classes},
 * background included.
 */
public final class FcosHead extends DenseHead {

  private static final float PRIOR_BIAS = (float) -Math.log((1 - 0.01) / 0.01);

  private final int numLogits;

  /**
   * Creates a head with one point per location.
   *
   * @param inChannels channels of the pyramid levels
   * @param numLogits class logits per location (torchvision's {@code num_classes})
   * @param groupNormGroups groups of the tower norms (torchvision: 32)
   * @throws IllegalArgumentException on invalid sizes
   */
  public FcosHead(int inChannels, int numLogits, int groupNormGroups) {
    super(
        branch(inChannels, groupNormGroups).addOutput("cls_logits", numLogits, PRIOR_BIAS).build(),
        branch(inChannels, groupNormGroups)
            .addOutput("bbox_reg", 4, 0f)
            .addOutput("bbox_ctrness", 1, 0f)
            .build());
    this.numLogits = numLogits;
  }

  private static DenseBranch.Builder branch(int inChannels, int groupNormGroups) {
    return DenseBranch.builder()
        .setInChannels(inChannels)
        .optGroupNorm(groupNormGroups)
        .optFlatTower(true);
  }

  /**
   * Returns the number of class logits per location.
   *
   * @return {@code K}
   */
  public int numLogits() {
    return numLogits;
  }

  /**
   * The head's outputs for every location of a batch, levels concatenated.
   *
   * @param logits {@code (N, T, K)} class logits
   * @param distances {@code (N, T, 4)} non-negative box distances (normalised by the stride)
   * @param centerness {@code (N, T, 1)} centre-ness logits
   * @param pointsPerLevel the number of locations of each level, summing to {@code T}
   */
  public record Predictions(
      NDArray logits, NDArray distances, NDArray centerness, int[] pointsPerLevel) {}

  /**
   * Runs both branches and lays their outputs out with one row per location.
   *
   * @param parameterStore the parameter store
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param training whether this is a training pass
   * @return the logits, distances and centre-ness of every location
   */
  public Predictions predict(ParameterStore parameterStore, NDList features, boolean training) {
    NDList out = forward(parameterStore, features, training);
    int levels = features.size();
    int[] perLevel = new int[levels];
    NDList logits = new NDList(levels);
    NDList distances = new NDList(levels);
    NDList centerness = new NDList(levels);
    for (int l = 0; l < levels; l++) {
      Shape s = features.get(l).getShape();
      perLevel[l] = (int) (s.get(2) * s.get(3));
      logits.add(perAnchor(out.get(l), 1, numLogits));
      distances.add(perAnchor(Activation.relu(out.get(levels + l)), 1, 4));
      centerness.add(perAnchor(out.get(2 * levels + l), 1, 1));
    }
    return new Predictions(concat(logits), concat(distances), concat(centerness), perLevel);
  }
}
