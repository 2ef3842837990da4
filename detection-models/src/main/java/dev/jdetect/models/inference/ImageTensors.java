package dev.jdetect.models.inference;

import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;

/**
 * Converts decoded images to the tensors models take, float32 RGB {@code (3, H, W)} in {@code [0,
 * 1]}, and back, with the pixels a viewer shows.
 *
 * <ul>
 *   <li><b>Grayscale</b> samples are taken as they are stored, as sRGB-encoded grey (as browsers
 *       and Pillow do), not through Java's linear-grey colour space, which would brighten them.
 *   <li><b>Transparency</b> is composited onto white: {@code v = a * c + (1 - a)} per channel, with
 *       {@code c} the colour and {@code a} the alpha, both non-premultiplied in {@code [0, 1]} (a
 *       browser showing the image on a white page).
 *   <li>Other images are read through their colour model as sRGB ({@link BufferedImage#getRGB}).
 * </ul>
 *
 * <p>Decoding files (EXIF orientation, CMYK JPEGs) is the reader's part; this class sees the
 * decoded pixels only.
 */
public final class ImageTensors {

  private ImageTensors() {}

  /**
   * Converts a decoded image to a float32 RGB {@code (3, H, W)} array in {@code [0, 1]}.
   *
   * @param manager the manager of the result
   * @param image the image
   * @return the array
   */
  public static NDArray toChw(NDManager manager, BufferedImage image) {
    return manager.create(planes(image), new Shape(3, image.getHeight(), image.getWidth()));
  }

  /**
   * Converts a DJL image to a float32 RGB {@code (3, H, W)} array in {@code [0, 1]}; an image
   * backed by a {@link BufferedImage} is converted as {@link #toChw(NDManager, BufferedImage)}.
   *
   * @param manager the manager of the result
   * @param image the image
   * @return the array
   */
  public static NDArray toChw(NDManager manager, Image image) {
    Object wrapped = image.getWrappedImage();
    if (wrapped instanceof BufferedImage) {
      return toChw(manager, (BufferedImage) wrapped);
    }
    try (NDManager sub = manager.newSubManager()) {
      NDArray hwc = image.toNDArray(sub, Image.Flag.COLOR);
      NDArray chw = hwc.transpose(2, 0, 1).toType(DataType.FLOAT32, false).div(255f);
      chw.attach(manager);
      return chw;
    }
  }

  /**
   * Converts a float {@code (3, H, W)} array in {@code [0, 1]} to an RGB image; values are clamped
   * and rounded to 8 bits.
   *
   * @param chw the array
   * @return a new {@code TYPE_INT_RGB} image
   * @throws IllegalArgumentException if the array is not {@code (3, H, W)}
   */
  public static BufferedImage toBufferedImage(NDArray chw) {
    Shape s = chw.getShape();
    if (s.dimension() != 3 || s.get(0) != 3) {
      throw new IllegalArgumentException("chw must have shape (3, H, W), got " + s);
    }
    float[] v = chw.toType(DataType.FLOAT32, false).toFloatArray();
    return fromPlanes(v, (int) s.get(1), (int) s.get(2));
  }

  /**
   * Converts a DJL image to an opaque RGB image with the pixels {@link #toChw(NDManager, Image)}
   * gives (grey as stored, transparency over white), for drawing on.
   *
   * @param image the image
   * @return a new {@code TYPE_INT_RGB} image
   */
  public static BufferedImage toBufferedImage(Image image) {
    Object wrapped = image.getWrappedImage();
    if (wrapped instanceof BufferedImage) {
      BufferedImage b = (BufferedImage) wrapped;
      return fromPlanes(planes(b), b.getHeight(), b.getWidth());
    }
    try (NDManager m = NDManager.newBaseManager()) {
      return toBufferedImage(toChw(m, image));
    }
  }

  private static BufferedImage fromPlanes(float[] v, int h, int w) {
    int plane = h * w;
    int[] rgb = new int[plane];
    for (int i = 0; i < plane; i++) {
      rgb[i] = (to8(v[i]) << 16) | (to8(v[plane + i]) << 8) | to8(v[2 * plane + i]);
    }
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    img.setRGB(0, 0, w, h, rgb, 0, w);
    return img;
  }

  private static int to8(float v) {
    return Math.max(0, Math.min(255, Math.round(v * 255f)));
  }

  /** The image as three planes R, G, B in [0, 1], transparency composited onto white. */
  private static float[] planes(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    float[] chw = new float[3 * h * w];
    ColorModel cm = image.getColorModel();
    if (image.getType() == BufferedImage.TYPE_3BYTE_BGR && isWholeRaster(image)) {
      fromBgrBytes(((DataBufferByte) image.getRaster().getDataBuffer()).getData(), chw);
    } else if (cm instanceof ComponentColorModel
        && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
      fromGraySamples(image.getRaster(), cm, chw);
    } else {
      fromArgb(image.getRGB(0, 0, w, h, null, 0, w), chw);
    }
    return chw;
  }

  private static void fromBgrBytes(byte[] bgr, float[] chw) {
    int plane = chw.length / 3;
    for (int i = 0; i < plane; i++) {
      chw[i] = (bgr[3 * i + 2] & 0xff) / 255f;
      chw[plane + i] = (bgr[3 * i + 1] & 0xff) / 255f;
      chw[2 * plane + i] = (bgr[3 * i] & 0xff) / 255f;
    }
  }

  private static void fromArgb(int[] argb, float[] chw) {
    int plane = chw.length / 3;
    for (int i = 0; i < plane; i++) {
      int p = argb[i];
      float a = (p >>> 24) / 255f;
      chw[i] = overWhite(((p >> 16) & 0xff) / 255f, a);
      chw[plane + i] = overWhite(((p >> 8) & 0xff) / 255f, a);
      chw[2 * plane + i] = overWhite((p & 0xff) / 255f, a);
    }
  }

  private static void fromGraySamples(Raster raster, ColorModel cm, float[] chw) {
    int w = raster.getWidth();
    int h = raster.getHeight();
    int plane = w * h;
    float grayMax = (1 << cm.getComponentSize(0)) - 1;
    int[] gray = raster.getSamples(0, 0, w, h, 0, (int[]) null);
    int[] alpha = cm.hasAlpha() ? raster.getSamples(0, 0, w, h, 1, (int[]) null) : null;
    float alphaMax = cm.hasAlpha() ? (1 << cm.getComponentSize(1)) - 1 : 1f;
    boolean premultiplied = cm.isAlphaPremultiplied();
    for (int i = 0; i < plane; i++) {
      float g = gray[i] / grayMax;
      if (alpha != null) {
        float a = alpha[i] / alphaMax;
        g = premultiplied ? g + (1f - a) : overWhite(g, a);
      }
      chw[i] = g;
      chw[plane + i] = g;
      chw[2 * plane + i] = g;
    }
  }

  private static float overWhite(float c, float a) {
    return a * c + (1f - a);
  }

  /** True if the image's data buffer holds exactly its pixels (not a sub-image view). */
  private static boolean isWholeRaster(BufferedImage image) {
    Raster r = image.getRaster();
    return r.getParent() == null
        && r.getSampleModelTranslateX() == 0
        && r.getSampleModelTranslateY() == 0
        && r.getDataBuffer().getNumBanks() == 1
        && r.getDataBuffer().getSize() == 3L * image.getWidth() * image.getHeight();
  }
}
