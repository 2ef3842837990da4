package dev.jdetect.models.transform;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.Scalars;

/**
 * Bilinear resizing of float images to a given size, equal to PyTorch's {@code
 * F.interpolate(images, size, mode="bilinear", align_corners=False)} on the CPU, as torchvision's
 * detection transforms call it: without antialiasing, so that shrinking an image samples it (each
 * output pixel mixes the 2x2 input pixels nearest to its centre) rather than averaging it.
 *
 * <p>Without antialiasing the resize runs in Java on a copy of the pixels, computing each output as
 * PyTorch's CPU kernel does (float32 weights, the same fused multiply-adds), so results equal
 * torchvision's bit for bit; the result is placed on the images' device. It records no gradient
 * with respect to the images (inputs never need one).
 *
 * <p>With antialiasing on, shrinking averages over the whole footprint of each output pixel ({@code
 * antialias=True}); it gives cleaner small images, but not the pixels models trained with
 * torchvision's transforms expect.
 */
public final class BilinearResize {

  // DJL's interpolation mode that PyTorch runs as antialiased bilinear
  private static final int ANTIALIASED_BILINEAR = 1;

  private BilinearResize() {}

  /**
   * Resizes one image {@code (C, H, W)} or a batch {@code (N, C, H, W)}.
   *
   * @param images float32 images
   * @param height the output height, at least 1
   * @param width the output width, at least 1
   * @param antialias whether shrinking averages (torchvision's detection transforms: false)
   * @return the resized images, on the images' manager and device; the input itself if it already
   *     has the size
   * @throws IllegalArgumentException if the array is not 3- or 4-dimensional float32 or a size is
   *     not positive
   */
  public static NDArray resize(NDArray images, int height, int width, boolean antialias) {
    Shape s = images.getShape();
    int dims = s.dimension();
    if ((dims != 3 && dims != 4) || images.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "images must be float32 (C, H, W) or (N, C, H, W), got "
              + images.getDataType()
              + " "
              + s);
    }
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException(
          "output size must be at least 1x1, got " + height + "x" + width);
    }
    int inH = (int) s.get(dims - 2);
    int inW = (int) s.get(dims - 1);
    if (inH == height && inW == width) {
      return images;
    }
    if (antialias) {
      NDArray batch = dims == 3 ? images.expandDims(0) : images;
      NDArray out =
          batch
              .getNDArrayInternal()
              .interpolation(new long[] {height, width}, ANTIALIASED_BILINEAR, false);
      return dims == 3 ? out.squeeze(0) : out;
    }
    long planes = s.size() / ((long) inH * inW);
    float[] in = images.toFloatArray();
    float[] out = new float[Math.toIntExact(planes * height * width)];
    Axis rows = Axis.of(inH, height);
    Axis cols = Axis.of(inW, width);
    for (int p = 0; p < planes; p++) {
      resizePlane(in, p * inH * inW, inW, rows, cols, out, p * height * width);
    }
    Shape outShape =
        dims == 3
            ? new Shape(s.get(0), height, width)
            : new Shape(s.get(0), s.get(1), height, width);
    // PyTorch must own the pixels: backward of the first convolution reads them after this
    // method's Java array may be gone
    NDArray result = Scalars.constant(images.getManager(), out, outShape);
    if (!result.getDevice().equals(images.getDevice())) {
      NDArray moved = result.toDevice(images.getDevice(), false);
      result.close();
      result = moved;
    }
    return result;
  }

  private static void resizePlane(
      float[] in, int inOffset, int inW, Axis rows, Axis cols, float[] out, int outOffset) {
    int width = cols.lo.length;
    for (int y = 0; y < rows.lo.length; y++) {
      int top = inOffset + rows.lo[y] * inW;
      int bottom = inOffset + rows.hi[y] * inW;
      for (int x = 0; x < width; x++) {
        float upper =
            lerp(in[top + cols.lo[x]], cols.loWeight[x], in[top + cols.hi[x]], cols.hiWeight[x]);
        float lower =
            lerp(
                in[bottom + cols.lo[x]],
                cols.loWeight[x],
                in[bottom + cols.hi[x]],
                cols.hiWeight[x]);
        out[outOffset + y * width + x] = lerp(upper, rows.loWeight[y], lower, rows.hiWeight[y]);
      }
    }
  }

  // PyTorch's CPU kernel computes a * wa + b * wb with the first product fused into the sum
  private static float lerp(float a, float wa, float b, float wb) {
    return Math.fma(a, wa, b * wb);
  }

  /** The two source indices and weights of every output position along one axis. */
  private static final class Axis {
    final int[] lo;
    final int[] hi;
    final float[] loWeight;
    final float[] hiWeight;

    private Axis(int n) {
      lo = new int[n];
      hi = new int[n];
      loWeight = new float[n];
      hiWeight = new float[n];
    }

    static Axis of(int inSize, int outSize) {
      Axis a = new Axis(outSize);
      // the scale in float32, the source position in double, the weights rounded to float32
      float scale = (float) inSize / (float) outSize;
      for (int i = 0; i < outSize; i++) {
        double src = Math.max(0.0, scale * (i + 0.5) - 0.5);
        int lo = (int) src;
        a.lo[i] = Math.min(lo, inSize - 1);
        a.hi[i] = a.lo[i] + (a.lo[i] < inSize - 1 ? 1 : 0);
        a.hiWeight[i] = (float) Math.min(Math.max(src - a.lo[i], 0.0), 1.0);
        a.loWeight[i] = 1f - a.hiWeight[i];
      }
      return a;
    }
  }
}
