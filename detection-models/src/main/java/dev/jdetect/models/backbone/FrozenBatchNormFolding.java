package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import dev.jdetect.core.nd.Autograd;
import java.util.List;

/**
 * Folds every {@link FrozenBatchNorm2d} into the convolution that feeds it, for inference: the
 * convolution runs with its weight scaled per output channel by {@code w / sqrt(rv + eps)} and a
 * bias {@code b - rm * scale} (plus its own bias, scaled), and the norm passes its input through.
 * That saves one pass over every normalised feature map (ResNet-50 and the frozen MobileNetV3
 * backbones of torchvision's detectors). Results equal the unfolded model's to float32 rounding.
 *
 * <p>A pair is a {@link FoldableConv2d} directly followed by a {@link FrozenBatchNorm2d} among the
 * children of a {@link SequentialBlock}, {@link Bottleneck} or {@link ResNet50}, blocks that feed
 * each convolution's output straight into the norm listed after it. Trainable batch norms are left
 * alone.
 *
 * <p>The parameters keep their values: the folded weights are extra arrays (about the size of the
 * backbone's convolution weights), used only when the model runs outside training and outside
 * autograd recording, so saving a folded model writes torchvision's values and training it trains
 * the parameters. Fold after the weights are loaded and before predictors start; weights loaded
 * afterwards need {@link #fold} again.
 */
public final class FrozenBatchNormFolding {

  private FrozenBatchNormFolding() {}

  /**
   * Folds every convolution → frozen batch norm pair under {@code root} (again, if folded before).
   *
   * @param root an initialised block tree with its weights loaded
   * @return how many pairs were folded
   */
  public static int fold(Block root) {
    int count = 0;
    if (chainsChildren(root)) {
      List<Block> children = root.getChildren().values();
      for (int i = 0; i + 1 < children.size(); i++) {
        if (children.get(i) instanceof FoldableConv2d conv
            && children.get(i + 1) instanceof FrozenBatchNorm2d norm) {
          foldPair(conv, norm);
          count++;
        }
      }
    }
    for (Block child : root.getChildren().values()) {
      count += fold(child);
    }
    return count;
  }

  /**
   * Undoes {@link #fold}: every convolution and norm under {@code root} runs from its parameters
   * again, and the folded arrays are freed.
   *
   * @param root a block tree
   * @return how many convolutions were folded
   */
  public static int unfold(Block root) {
    int count = 0;
    if (root instanceof FoldableConv2d conv && conv.isFolded()) {
      conv.unfold();
      count++;
    }
    if (root instanceof FrozenBatchNorm2d norm) {
      norm.setFolded(false);
    }
    for (Block child : root.getChildren().values()) {
      count += unfold(child);
    }
    return count;
  }

  /**
   * Returns whether folded pairs run folded now: not in training and not while PyTorch records on
   * this thread. The convolution and its norm decide alike, in the same forward pass.
   */
  static boolean applies(boolean training) {
    return !training && !Autograd.isRecording();
  }

  private static boolean chainsChildren(Block block) {
    return block instanceof SequentialBlock
        || block instanceof Bottleneck
        || block instanceof ResNet50;
  }

  private static void foldPair(FoldableConv2d conv, FrozenBatchNorm2d norm) {
    if (!conv.isInitialized() || !norm.isInitialized()) {
      throw new IllegalStateException("fold: initialise the model and load its weights first");
    }
    NDArray weight = conv.getParameters().get("weight").getArray();
    NDArray ownBias = conv.isIncludeBias() ? conv.getParameters().get("bias").getArray() : null;
    try (Autograd.NoGradient ignored = Autograd.noGradient();
        NDScope scope = new NDScope()) {
      FrozenBatchNorm2d.Affine affine = norm.affine();
      NDArray scale = affine.scale();
      NDArray shift = affine.shift();
      long out = weight.getShape().get(0);
      if (scale.getShape().get(0) != out) {
        throw new IllegalStateException(
            "fold: the convolution has " + out + " outputs, its norm " + scale.getShape());
      }
      NDArray foldedWeight = weight.mul(scale.reshape(new Shape(out, 1, 1, 1)));
      NDArray foldedBias = ownBias == null ? shift.duplicate() : ownBias.mul(scale).add(shift);
      NDScope.unregister(foldedWeight, foldedBias);
      conv.fold(foldedWeight, foldedBias);
      norm.setFolded(true);
    }
  }
}
