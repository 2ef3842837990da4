package dev.jdetect.core.nd;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Tells whether an array may take part in autograd, so that ops with a fast gradient-free path (the
 * Java kernels of RoI pooling) know when they must take the differentiable one.
 *
 * <p><b>Why not {@link NDArray#hasGradient()}.</b> On DJL 0.35.1's PyTorch engine {@code
 * hasGradient()} is true only for leaves marked with {@code setRequiresGradient(true)}, such as
 * parameters. The output of any op on them (a backbone's feature map inside a {@code
 * GradientCollector}) reports {@code false} although backward flows through it, and asking PyTorch
 * for the array's gradient function crashes the JVM when it has none. Choosing a non-differentiable
 * kernel on {@code hasGradient()} alone silently cuts the graph: in Faster R-CNN the RoI heads'
 * losses then never reach the backbone.
 *
 * <p>The rule here: an array may need a gradient if it is such a leaf, or if PyTorch is recording
 * on the calling thread (grad mode, which a {@code GradientCollector} switches on and DJL's engine
 * switches off on the thread that loads it). PyTorch starts every new native thread in grad mode,
 * so inference on a thread that DJL never touched also takes the differentiable path: correct, only
 * slower.
 */
public final class Autograd {

  private Autograd() {}

  /**
   * Returns whether gradients may have to flow into {@code array}.
   *
   * @param array any array
   * @return {@code true} if the array is a leaf that requires a gradient, or PyTorch records ops on
   *     this thread
   */
  public static boolean mayNeedGradient(NDArray array) {
    if (array.hasGradient()) {
      return true;
    }
    return array instanceof PtNDArray && JniUtils.isGradMode();
  }

  /**
   * Returns whether PyTorch records ops for autograd on the calling thread (grad mode).
   *
   * @return {@code true} inside a {@code GradientCollector}, and on threads DJL never switched off
   */
  public static boolean isRecording() {
    return JniUtils.isGradMode();
  }

  /**
   * Switches PyTorch's recording off on the calling thread until the returned handle is closed
   * (like {@code torch.no_grad()}), then restores the previous mode. Inference code uses it so that
   * a prediction on a fresh thread, where PyTorch records by default, neither builds an autograd
   * graph nor takes the slower differentiable kernels.
   *
   * @return the handle restoring the previous mode
   */
  public static NoGradient noGradient() {
    boolean previous = JniUtils.isGradMode();
    if (previous) {
      JniUtils.setGradMode(false);
    }
    return new NoGradient(previous);
  }

  /** A scope without autograd recording on this thread; see {@link #noGradient()}. */
  public static final class NoGradient implements AutoCloseable {

    private final boolean previous;

    private NoGradient(boolean previous) {
      this.previous = previous;
    }

    /** Restores the recording mode that was in force when the scope opened. */
    @Override
    public void close() {
      if (previous) {
        JniUtils.setGradMode(true);
      }
    }
  }
}
