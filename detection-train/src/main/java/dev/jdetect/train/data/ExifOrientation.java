package dev.jdetect.train.data;

import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEG;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.stream.ImageInputStream;

/**
 * The EXIF orientation of a JPEG (tag 274, values 1 to 8) and the turn or flip that shows its
 * stored pixels upright, as viewers apply it.
 */
final class ExifOrientation {

  /** Stored pixels are upright. */
  static final int UPRIGHT = 1;

  private ExifOrientation() {}

  /**
   * Reads the orientation from a JPEG's EXIF segment.
   *
   * @param in the JPEG stream, positioned at its start (left at an unspecified position)
   * @return 1 to 8; 1 when there is no EXIF orientation or it is out of range
   * @throws IOException if the JPEG's segments cannot be read
   */
  static int read(ImageInputStream in) throws IOException {
    List<JPEGSegment> segments = JPEGSegmentUtil.readSegments(in, JPEG.APP1, "Exif");
    for (JPEGSegment segment : segments) {
      try (InputStream data = segment.data()) {
        // "Exif" is followed by two zero bytes; the segment's data starts after the first
        if (data.read() != 0) {
          continue;
        }
        Directory ifd0 = new TIFFReader().read(ImageIO.createImageInputStream(data));
        Entry entry = ifd0.getEntryById(TIFF.TAG_ORIENTATION);
        if (entry != null && entry.getValue() instanceof Number) {
          int value = ((Number) entry.getValue()).intValue();
          return value >= 1 && value <= 8 ? value : UPRIGHT;
        }
      } catch (IOException | RuntimeException malformed) {
        // a viewer shows an image with unreadable EXIF as stored
      }
    }
    return UPRIGHT;
  }

  /**
   * Returns whether an orientation swaps width and height (the quarter turns and transposes).
   *
   * @param orientation 1 to 8
   * @return true for 5 to 8
   */
  static boolean swapsSides(int orientation) {
    return orientation >= 5 && orientation <= 8;
  }

  /**
   * Turns or flips stored pixels upright.
   *
   * @param stored the decoded pixels
   * @param orientation 1 to 8
   * @return the upright image, of the same colour model ({@code stored} itself for 1)
   */
  static BufferedImage apply(BufferedImage stored, int orientation) {
    if (orientation <= UPRIGHT || orientation > 8) {
      return stored;
    }
    int w = stored.getWidth();
    int h = stored.getHeight();
    boolean swap = swapsSides(orientation);
    ColorModel cm = stored.getColorModel();
    WritableRaster out = cm.createCompatibleWritableRaster(swap ? h : w, swap ? w : h);
    Raster in = stored.getRaster();
    Object pixel = null;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        pixel = in.getDataElements(x, y, pixel);
        int ux = uprightX(orientation, x, y, w, h);
        int uy = uprightY(orientation, x, y, w, h);
        out.setDataElements(ux, uy, pixel);
      }
    }
    return new BufferedImage(cm, out, cm.isAlphaPremultiplied(), null);
  }

  // 2 mirrors, 3 turns 180°, 4 flips, 5 transposes, 6 turns 90° clockwise, 7 transposes across the
  // other diagonal, 8 turns 90° counter-clockwise
  private static int uprightX(int orientation, int x, int y, int w, int h) {
    switch (orientation) {
      case 2:
      case 3:
        return w - 1 - x;
      case 5:
      case 8:
        return y;
      case 6:
      case 7:
        return h - 1 - y;
      default:
        return x;
    }
  }

  private static int uprightY(int orientation, int x, int y, int w, int h) {
    switch (orientation) {
      case 3:
      case 4:
        return h - 1 - y;
      case 5:
      case 6:
        return x;
      case 7:
      case 8:
        return w - 1 - x;
      default:
        return y;
    }
  }
}
