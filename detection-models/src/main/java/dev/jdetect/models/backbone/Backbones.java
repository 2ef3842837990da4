package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;

/** Input checks and the forward pass shared by the backbones. */
final class Backbones {

  private Backbones() {}

  /**
   * Checks that the input is one {@code (N, 3, H, W)} image batch.
   *
   * @param inputs the forward inputs
   * @param argName the name used in the error message
   */
  static void checkImages(NDList inputs, String argName) {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException(argName + ": expected an (N, 3, H, W) array, got none");
    }
    NDArray x = inputs.get(0);
    Shape s = x.getShape();
    if (s.dimension() != 4 || s.get(1) != 3) {
      throw new IllegalArgumentException(argName + ": expected shape (N, 3, H, W), got " + s);
    }
  }

  /**
   * Returns the output size of a convolution or pool along one axis (floor mode).
   *
   * @param size the input size
   * @param kernel the kernel size
   * @param stride the stride
   * @param padding the padding
   * @return the output size
   */
  static long outSize(long size, int kernel, int stride, int padding) {
    return (size + 2L * padding - kernel) / stride + 1;
  }

  /**
   * Freezes the parameters of the first {@code count} children of a sequential block.
   *
   * @param seq the block
   * @param count how many leading children to freeze
   */
  static void freezeLeading(SequentialBlock seq, int count) {
    int n = Math.min(count, seq.getChildren().size());
    for (int i = 0; i < n; i++) {
      seq.getChildren().get(i).getValue().freezeParameters(true);
    }
  }

  /**
   * Runs a sequential block like {@link SequentialBlock#forward} does, but closes every
   * intermediate output as soon as the next child has consumed it (nested sequential blocks
   * likewise). DJL otherwise keeps all of them until the caller's manager closes, so each layer
   * writes into freshly mapped memory; releasing them lets the allocator hand the same warm pages
   * to the next layer (a MobileNetV2 at 800x800 runs ~1.5x faster). Autograd keeps its own
   * references to what backward needs, so this is safe in training too.
   *
   * <p>Never closes the caller's inputs, and never closes an array that a child passed through
   * unchanged.
   *
   * @param seq the block
   * @param ps the parameter store
   * @param inputs the inputs, left open
   * @param training whether this is a training pass
   * @param params extra parameters passed to every child
   * @return the last child's output
   */
  static NDList forwardReleasing(
      SequentialBlock seq,
      ParameterStore ps,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList current = inputs;
    for (Pair<String, Block> child : seq.getChildren()) {
      Block block = child.getValue();
      NDList next =
          block instanceof SequentialBlock
              ? forwardReleasing((SequentialBlock) block, ps, current, training, params)
              : block.forward(ps, current, training, params);
      if (current != inputs) {
        for (NDArray consumed : current) {
          if (!containsSame(next, consumed)) {
            consumed.close();
          }
        }
      }
      current = next;
    }
    return current;
  }

  private static boolean containsSame(NDList list, NDArray array) {
    for (NDArray a : list) {
      if (a == array) {
        return true;
      }
    }
    return false;
  }
}
