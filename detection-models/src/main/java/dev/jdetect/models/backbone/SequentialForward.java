package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Runs a {@link SequentialBlock} child by child, as its own {@code forward} does, but closes every
 * intermediate output as soon as the next child has consumed it (nested sequential blocks
 * likewise).
 *
 * <p>DJL otherwise keeps all of them until the caller's manager or scope closes, so each layer
 * writes into freshly mapped memory and a training step holds every activation at once. Releasing
 * them lets the allocator hand the same warm pages to the next layer. Autograd keeps its own
 * references to what backward needs, so training gives the same gradients, bit for bit; only the
 * arrays that nothing needs any more are freed, as PyTorch frees them.
 */
public final class SequentialForward {

  private SequentialForward() {}

  /**
   * Runs the block, releasing its intermediates. Never closes the caller's inputs, nor an array
   * that a child passed through unchanged.
   *
   * @param seq the block
   * @param ps the parameter store
   * @param inputs the inputs, left open
   * @param training whether this is a training pass
   * @param params extra parameters passed to every child
   * @return the last child's output
   */
  public static NDList releasing(
      SequentialBlock seq,
      ParameterStore ps,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList current = inputs;
    for (Block block : seq.getChildren().values()) {
      NDList next = run(block, ps, current, training, params);
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

  /**
   * Runs a block: a sequential block through {@link #releasing}, any other through its own {@code
   * forward}.
   *
   * @param block the block
   * @param ps the parameter store
   * @param inputs the inputs, left open
   * @param training whether this is a training pass
   * @param params extra parameters passed to the block
   * @return the block's output
   */
  public static NDList run(
      Block block,
      ParameterStore ps,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    return block instanceof SequentialBlock
        ? releasing((SequentialBlock) block, ps, inputs, training, params)
        : block.forward(ps, inputs, training, params);
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
