package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.function.UnaryOperator;

/** Reductions over a step's gradients, each read from the device once. */
final class GradientChecks {

  private GradientChecks() {}

  /**
   * Returns the global L2 norm of the gradients, summed in float64.
   *
   * @param grads the gradients; {@code null} entries are skipped
   * @return the norm, 0 if there is no gradient; not finite if a gradient is not
   */
  static double globalNorm(DataParallel.Gradient[] grads) {
    NDArray sumSq = total(grads, g -> g.toType(DataType.FLOAT64, false).square().sum());
    return sumSq == null ? 0 : Math.sqrt(sumSq.getDouble());
  }

  /**
   * Returns whether every gradient element is finite. One float32 sum per parameter decides the
   * common case: a finite sum has no infinite or NaN term. A sum that is not finite may also come
   * from finite terms beyond float32's range, so then each parameter is summed in float64, where
   * finite float32 terms cannot overflow.
   *
   * @param grads the gradients; {@code null} entries are skipped
   * @return {@code true} if all are finite (and exactly when {@link #globalNorm} is finite)
   */
  static boolean allFinite(DataParallel.Gradient[] grads) {
    NDArray sum = total(grads, g -> g.sum().toType(DataType.FLOAT32, false));
    if (sum == null || Float.isFinite(sum.toType(DataType.FLOAT32, false).getFloat())) {
      return true;
    }
    NDArray exact = total(grads, g -> g.toType(DataType.FLOAT64, false).sum());
    return Double.isFinite(exact.getDouble());
  }

  private static NDArray total(DataParallel.Gradient[] grads, UnaryOperator<NDArray> reduce) {
    NDList parts = new NDList(grads.length);
    for (DataParallel.Gradient g : grads) {
      if (g != null) {
        parts.add(reduce.apply(g.sum()));
      }
    }
    return parts.isEmpty() ? null : NDArrays.stack(parts).sum();
  }
}
