package dev.jdetect.train.data;

import ai.djl.modality.cv.Image;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reading image files into the tensors this library uses: float32 RGB {@code (3, H, W)} in {@code
 * [0, 1]}. Uses {@link ImageIO} (headless), so PNG, JPEG, BMP and GIF are supported.
 */
public final class ImageFiles {

  private ImageFiles() {}

  /**
   * Decodes an image file.
   *
   * @param file the file
   * @return the decoded image, converted to RGB
   * @throws DatasetFormatException if the file is missing, unreadable or not a decodable image
   */
  public static BufferedImage read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DatasetFormatException(file, -1, null, "image file does not exist");
    }
    BufferedImage img;
    try {
      img = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new DatasetFormatException(
          file, -1, null, "corrupt or unsupported image: " + e.getMessage(), e);
    }
    if (img == null) {
      throw new DatasetFormatException(file, -1, null, "corrupt or unsupported image format");
    }
    return img;
  }

  /**
   * Reads only the header of an image file to get its size.
   *
   * @param file the file
   * @return {@code {width, height}}
   * @throws DatasetFormatException if the file is missing or its header cannot be decoded
   */
  public static int[] readSize(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DatasetFormatException(file, -1, null, "image file does not exist");
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new DatasetFormatException(file, -1, null, "cannot open image");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new DatasetFormatException(file, -1, null, "corrupt or unsupported image format");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        return new int[] {reader.getWidth(0), reader.getHeight(0)};
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof DatasetFormatException) {
        throw (DatasetFormatException) e;
      }
      throw new DatasetFormatException(
          file, -1, null, "corrupt image header: " + e.getMessage(), e);
    }
  }

  /**
   * Converts a decoded image to a float32 RGB {@code (3, H, W)} array in {@code [0, 1]}.
   *
   * @param manager the manager of the result
   * @param image the image
   * @return the array
   */
  public static NDArray toChw(NDManager manager, BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    float[] chw = new float[3 * h * w];
    int plane = h * w;
    int type = image.getType();
    if (type == BufferedImage.TYPE_3BYTE_BGR && isWholeRaster(image)) {
      byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < plane; i++) {
        chw[i] = (bgr[3 * i + 2] & 0xff) / 255f;
        chw[plane + i] = (bgr[3 * i + 1] & 0xff) / 255f;
        chw[2 * plane + i] = (bgr[3 * i] & 0xff) / 255f;
      }
    } else {
      int[] argb =
          (type == BufferedImage.TYPE_INT_RGB || type == BufferedImage.TYPE_INT_ARGB)
                  && isWholeRaster(image)
              ? ((DataBufferInt) image.getRaster().getDataBuffer()).getData()
              : image.getRGB(0, 0, w, h, null, 0, w);
      for (int i = 0; i < plane; i++) {
        int p = argb[i];
        chw[i] = ((p >> 16) & 0xff) / 255f;
        chw[plane + i] = ((p >> 8) & 0xff) / 255f;
        chw[2 * plane + i] = (p & 0xff) / 255f;
      }
    }
    return manager.create(chw, new Shape(3, h, w));
  }

  /** True if the image's data buffer holds exactly its pixels (not a sub-image view). */
  private static boolean isWholeRaster(BufferedImage image) {
    java.awt.image.WritableRaster r = image.getRaster();
    return r.getParent() == null
        && r.getSampleModelTranslateX() == 0
        && r.getSampleModelTranslateY() == 0
        && r.getDataBuffer().getNumBanks() == 1
        && r.getDataBuffer().getSize()
            == (long) image.getWidth()
                * image.getHeight()
                * (image.getType() == BufferedImage.TYPE_3BYTE_BGR ? 3 : 1);
  }

  /**
   * Converts a DJL {@link Image} to a float32 RGB {@code (3, H, W)} array in {@code [0, 1]}.
   *
   * @param manager the manager of the result
   * @param image the image
   * @return the array
   */
  public static NDArray toChw(NDManager manager, Image image) {
    try (NDManager sub = manager.newSubManager()) {
      NDArray hwc = image.toNDArray(sub, Image.Flag.COLOR);
      NDArray chw = hwc.transpose(2, 0, 1).toType(DataType.FLOAT32, false).div(255f);
      chw.attach(manager);
      return chw;
    }
  }

  /**
   * Converts a float {@code (3, H, W)} array in {@code [0, 1]} back to an RGB image (values are
   * clamped and rounded).
   *
   * @param chw the array
   * @return the image
   */
  public static BufferedImage toBufferedImage(NDArray chw) {
    Shape s = chw.getShape();
    if (s.dimension() != 3 || s.get(0) != 3) {
      throw new IllegalArgumentException("chw must have shape (3, H, W), got " + s);
    }
    int h = (int) s.get(1);
    int w = (int) s.get(2);
    float[] v = chw.toType(DataType.FLOAT32, false).toFloatArray();
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
    int x = Math.round(v * 255f);
    return Math.max(0, Math.min(255, x));
  }
}
