package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;

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
}
