package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.ImageTargets;
import java.util.List;

/** The argument checks the {@link SsdLoss} implementations share. */
final class LossInputs {

  private LossInputs() {}

  /**
   * Checks that head outputs, anchors and targets agree: {@code clsLogits (N, A, K)}, {@code
   * bboxRegression (N, A, 4)}, {@code anchors (A, 4)} and {@code N} targets.
   */
  static void check(
      NDArray clsLogits, NDArray bboxRegression, NDArray anchors, List<ImageTargets> targets) {
    Shape cs = clsLogits.getShape();
    Shape bs = bboxRegression.getShape();
    if (cs.dimension() != 3
        || bs.dimension() != 3
        || bs.get(2) != 4
        || cs.get(0) != bs.get(0)
        || cs.get(1) != bs.get(1)
        || !anchors.getShape().equals(new Shape(cs.get(1), 4))) {
      throw new IllegalArgumentException(
          "need clsLogits (N, A, C+1), bboxRegression (N, A, 4), anchors (A, 4); got "
              + cs
              + ", "
              + bs
              + ", "
              + anchors.getShape());
    }
    if (targets.size() != cs.get(0)) {
      throw new IllegalArgumentException(
          "targets hold " + targets.size() + " images but the batch has " + cs.get(0));
    }
  }
}
