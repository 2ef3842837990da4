package dev.jdetect.train.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Reads image files as a viewer shows them. Uses {@link ImageIO} (headless) with TwelveMonkeys'
 * JPEG reader, so PNG, JPEG (including CMYK and YCCK), BMP and GIF are supported.
 *
 * <ul>
 *   <li>A JPEG's EXIF orientation is applied: the result is upright, and {@link #readSize} reports
 *       the upright size.
 *   <li>A file whose image data is cut short or corrupt (a truncated JPEG, a bad Huffman table) is
 *       an error naming the file, never an image with a grey or garbled part.
 * </ul>
 *
 * <p>Convert the result to a tensor with {@link dev.jdetect.models.inference.ImageTensors}, which
 * shows grey as stored and composites transparency onto white.
 */
public final class ImageFiles {

  private static final String EMPTY = "empty image file";

  private ImageFiles() {}

  /**
   * Decodes an image file, upright.
   *
   * @param file the file
   * @return the decoded image, turned as its EXIF orientation says
   * @throws DatasetFormatException naming the file if it is missing, unreadable, truncated or not a
   *     decodable image
   */
  public static BufferedImage read(Path file) {
    return withReader(file, upright(file));
  }

  /**
   * Decodes an image from the bytes of its file, upright, exactly as {@link #read(Path)} decodes
   * the file (for bytes read elsewhere, e.g. by Spark's {@code binaryFile} source).
   *
   * @param content the file's bytes
   * @param name the file's name or path, for error messages
   * @return the decoded image, turned as its EXIF orientation says
   * @throws DatasetFormatException naming the file if the bytes are empty, truncated or not a
   *     decodable image
   */
  public static BufferedImage read(byte[] content, String name) {
    Path file;
    try {
      file = Path.of(name);
    } catch (InvalidPathException e) {
      file = Path.of(name.replaceAll("[^\\w./-]", "_"));
    }
    if (content.length == 0) {
      throw new DatasetFormatException(file, -1, null, EMPTY);
    }
    return withReader(
        file,
        // in memory: ImageIO's default stream would cache the bytes in a temporary file
        () -> new MemoryCacheImageInputStream(new ByteArrayInputStream(content)),
        upright(file));
  }

  /**
   * Reads only the header (and EXIF orientation) of an image file to get its upright size.
   *
   * @param file the file
   * @return {@code {width, height}} as {@link #read} returns the image
   * @throws DatasetFormatException if the file is missing or its header cannot be decoded
   */
  public static int[] readSize(Path file) {
    return withReader(
        file,
        (reader, orientation, dataLoss) -> {
          int w = reader.getWidth(0);
          int h = reader.getHeight(0);
          return ExifOrientation.swapsSides(orientation) ? new int[] {h, w} : new int[] {w, h};
        });
  }

  /** What is done with a reader set on the file. */
  private interface ReaderStep<T> {
    T apply(ImageReader reader, int orientation, List<String> dataLoss) throws IOException;
  }

  /** Decodes the image and turns it upright; data loss is an error naming the file. */
  private static ReaderStep<BufferedImage> upright(Path file) {
    return (reader, orientation, dataLoss) -> {
      BufferedImage stored = reader.read(0);
      if (!dataLoss.isEmpty()) {
        throw new DatasetFormatException(
            file, -1, null, "truncated or corrupt image data: " + String.join("; ", dataLoss));
      }
      return ExifOrientation.apply(stored, orientation);
    };
  }

  /** Where the bytes come from. */
  private interface Source {
    ImageInputStream open() throws IOException;
  }

  private static <T> T withReader(Path file, ReaderStep<T> step) {
    if (!Files.isRegularFile(file)) {
      throw new DatasetFormatException(file, -1, null, "image file does not exist");
    }
    if (file.toFile().length() == 0) {
      throw new DatasetFormatException(file, -1, null, EMPTY);
    }
    return withReader(file, () -> ImageIO.createImageInputStream(file.toFile()), step);
  }

  private static <T> T withReader(Path file, Source bytes, ReaderStep<T> step) {
    try (ImageInputStream in = bytes.open()) {
      if (in == null) {
        throw new DatasetFormatException(file, -1, null, "cannot open image");
      }
      ImageReader reader = readerFor(file, in);
      try {
        int orientation = ExifOrientation.UPRIGHT;
        if ("jpeg".equalsIgnoreCase(reader.getFormatName())) {
          orientation = ExifOrientation.read(in);
          in.seek(0);
        }
        List<String> dataLoss = new ArrayList<>();
        reader.addIIOReadWarningListener(
            (source, warning) -> {
              if (isDataLoss(warning)) {
                dataLoss.add(warning);
              }
            });
        reader.setInput(in);
        return step.apply(reader, orientation, dataLoss);
      } finally {
        reader.dispose();
      }
    } catch (DatasetFormatException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new DatasetFormatException(
          file, -1, null, "corrupt or unsupported image: " + describe(e), e);
    }
  }

  private static ImageReader readerFor(Path file, ImageInputStream in) {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    if (!readers.hasNext()) {
      throw new DatasetFormatException(file, -1, null, "corrupt or unsupported image format");
    }
    return readers.next();
  }

  /**
   * Decoder warnings that mean pixels are missing or wrong (libjpeg's and TwelveMonkeys'). Extra
   * bytes between segments lose nothing (Pillow and browsers show such files whole).
   */
  private static boolean isDataLoss(String warning) {
    String w = warning.toLowerCase(Locale.ROOT);
    return w.contains("premature end")
        || w.contains("truncated")
        || (w.contains("corrupt") && !w.contains("extraneous bytes"));
  }

  private static String describe(Exception e) {
    String message = e.getMessage();
    return message == null || message.isBlank()
        ? e.getClass().getSimpleName()
        : e.getClass().getSimpleName() + ": " + message;
  }
}
