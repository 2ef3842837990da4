package dev.jdetect.core.nd;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.Locale;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure PyTorch's CPU convolutions compute correct numbers on this machine before jdetect's
 * models use them.
 *
 * <p>PyTorch runs float convolutions on the CPU through oneDNN. On some processors (seen on virtual
 * machines with AMD EPYC processors and AVX-512) the oneDNN build inside DJL's PyTorch 2.7.1
 * returns wrong values, and in training NaN gradients, for every convolution whose input channel
 * count is not a multiple of its vector block (8 or 16) — 24 or 40 channels, say — while other
 * shapes are exact. The first call of {@link #ensureCorrect()} runs one such convolution and
 * compares it with a plain Java computation; if they differ, it switches oneDNN off for the
 * process, so PyTorch takes its own convolution kernels (exact, slower for large convolutions) and
 * logs a warning saying so.
 *
 * <p>The system property {@code jdetect.onednn} overrides the check: {@code on} keeps oneDNN
 * whatever the check says, {@code off} switches it off without checking, {@code auto} (the default)
 * decides by the check.
 */
public final class ConvolutionCheck {

  /** The system property that overrides the check: {@code auto}, {@code on} or {@code off}. */
  public static final String PROPERTY = "jdetect.onednn";

  private static final Logger LOG = LoggerFactory.getLogger(ConvolutionCheck.class);
  private static final double TOLERANCE = 1e-3;
  private static volatile Boolean oneDnnUsed;

  private ConvolutionCheck() {}

  /**
   * Runs the check once per process (later calls return at once) and switches oneDNN off if its
   * convolutions are wrong here. Only PyTorch's CPU engine is affected; on other engines this does
   * nothing.
   *
   * @return whether PyTorch's oneDNN convolutions stay in use
   */
  public static boolean ensureCorrect() {
    Boolean used = oneDnnUsed;
    if (used != null) {
      return used;
    }
    synchronized (ConvolutionCheck.class) {
      if (oneDnnUsed == null) {
        oneDnnUsed = decide();
      }
      return oneDnnUsed;
    }
  }

  private static boolean decide() {
    if (!"PyTorch".equals(Engine.getInstance().getEngineName())) {
      return false;
    }
    String mode = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    switch (mode) {
      case "on":
        return true;
      case "off":
        disableOneDnn();
        return false;
      case "auto":
        break;
      default:
        throw new IllegalArgumentException(
            "system property " + PROPERTY + " must be auto, on or off, got '" + mode + "'");
    }
    double error = largestError();
    if (error <= TOLERANCE) {
      return true;
    }
    disableOneDnn();
    double after = largestError();
    if (after > TOLERANCE) {
      throw new IllegalStateException(
          "PyTorch's CPU convolution is wrong on this machine (largest error "
              + after
              + ") even without oneDNN");
    }
    LOG.warn(
        "PyTorch's oneDNN convolutions are wrong on this processor (largest error {} on a"
            + " 24-channel test convolution); jdetect switched oneDNN off, so convolutions are"
            + " exact but slower. Set -D{}=on to keep oneDNN.",
        error,
        PROPERTY);
    return false;
  }

  /**
   * Returns the largest absolute difference between PyTorch's and a double-precision Java
   * computation of small 3x3 convolutions with 12 and 24 input channels (tails of the 8- and
   * 16-wide vector blocks), forward and backward.
   *
   * @return the largest error over both test convolutions
   */
  static double largestError() {
    return Math.max(error(12, 5), error(24, 7));
  }

  /**
   * The largest error of one test convolution {@code y = conv3x3(x, w)} (padding 1, 8 outputs) and
   * of the gradients of {@code sum(y)} with respect to {@code x} and {@code w}, which PyTorch
   * computes with other kernels than the forward pass.
   */
  private static double error(int channels, int size) {
    int batch = 2;
    int out = 8;
    SplittableRandom random = new SplittableRandom(channels);
    float[] x = new float[batch * channels * size * size];
    float[] w = new float[out * channels * 9];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextDouble();
    }
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextDouble() - 0.5);
    }
    float[] y;
    float[] gradX;
    float[] gradW;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray input = manager.create(x, new Shape(batch, channels, size, size));
      NDArray weight = manager.create(w, new Shape(out, channels, 3, 3));
      input.setRequiresGradient(true);
      weight.setRequiresGradient(true);
      Shape one = new Shape(1, 1);
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray result = Conv2d.conv2d(input, weight, null, one, one, one, 1).singletonOrThrow();
        y = result.toFloatArray();
        collector.backward(result.sum());
      }
      gradX = input.getGradient().toFloatArray();
      gradW = weight.getGradient().toFloatArray();
    }
    double[] wantY = new double[y.length];
    double[] wantGradX = new double[x.length];
    double[] wantGradW = new double[w.length];
    for (int b = 0; b < batch; b++) {
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < size; i++) {
          for (int j = 0; j < size; j++) {
            for (int c = 0; c < channels; c++) {
              for (int k = 0; k < 9; k++) {
                int row = i - 1 + k / 3;
                int col = j - 1 + k % 3;
                if (row >= 0 && row < size && col >= 0 && col < size) {
                  int xi = ((b * channels + c) * size + row) * size + col;
                  int wi = (o * channels + c) * 9 + k;
                  wantY[((b * out + o) * size + i) * size + j] += (double) x[xi] * w[wi];
                  wantGradX[xi] += w[wi];
                  wantGradW[wi] += x[xi];
                }
              }
            }
          }
        }
      }
    }
    return Math.max(worst(wantY, y), Math.max(worst(wantGradX, gradX), worst(wantGradW, gradW)));
  }

  private static double worst(double[] want, float[] got) {
    double worst = 0;
    for (int i = 0; i < want.length; i++) {
      double diff = Math.abs(want[i] - got[i]);
      if (!(diff <= worst)) {
        // a NaN read from uninitialised memory counts as the largest error
        worst = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff;
      }
    }
    return worst;
  }

  /** Calls {@code at::globalContext().setUserEnabledMkldnn(false)} (and NNPACK's twin). */
  private static void disableOneDnn() {
    try {
      switchOff();
    } catch (UnsatisfiedLinkError e) {
      throw new IllegalStateException(
          "cannot switch PyTorch's oneDNN off ("
              + e.getMessage()
              + "); set the environment variable ONEDNN_MAX_CPU_ISA=SSE41 instead",
          e);
    }
  }

  private static void switchOff() {
    NativeLibrary torch = NativeLibrary.getInstance("torch_cpu");
    Pointer context = torch.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
    Function setMkldnn = torch.getFunction("_ZN2at7Context20setUserEnabledMkldnnEb");
    setMkldnn.invokeVoid(new Object[] {context, Boolean.FALSE});
    // without oneDNN PyTorch tries NNPACK, which prints a warning per call where it is unsupported
    Function setNnpack = torch.getFunction("_ZN2at7Context20setUserEnabledNNPACKEb");
    setNnpack.invokeVoid(new Object[] {context, Boolean.FALSE});
  }
}
