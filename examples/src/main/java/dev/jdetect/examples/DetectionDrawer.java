package dev.jdetect.examples;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.BoundingBox;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import dev.jdetect.models.inference.ImageTensors;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws detections onto a copy of an image (a coloured box and a "name score" tag per object; one
 * colour per class name) and saves PNGs, with plain {@code java.awt} (works headless).
 */
public final class DetectionDrawer {

  private static final Color[] PALETTE = {
    new Color(230, 25, 75),
    new Color(60, 180, 75),
    new Color(0, 130, 200),
    new Color(245, 130, 48),
    new Color(145, 30, 180),
    new Color(70, 240, 240),
    new Color(240, 50, 230),
    new Color(210, 245, 60),
    new Color(0, 128, 128),
    new Color(170, 110, 40)
  };

  static {
    // drawing needs no display; without this, AWT may look for one on a server
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private DetectionDrawer() {}

  /**
   * Draws detections onto a copy of an image.
   *
   * @param image the image the detections belong to, shown as {@link ImageTensors} converts it
   *     (grey as stored, transparency over white)
   * @param detections detections with boxes relative to that image
   * @return a new image with the boxes drawn
   */
  public static BufferedImage draw(Image image, DetectedObjects detections) {
    return draw(ImageTensors.toBufferedImage(image), detections);
  }

  /**
   * Draws detections onto a copy of an image.
   *
   * @param image the image the detections belong to
   * @param detections detections with boxes relative to that image
   * @return a new image with the boxes drawn
   */
  public static BufferedImage draw(BufferedImage image, DetectedObjects detections) {
    int w = image.getWidth();
    int h = image.getHeight();
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.drawImage(image, 0, 0, null);
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      int stroke = Math.max(2, Math.round(Math.min(w, h) / 200f));
      int fontSize = Math.max(10, Math.min(w, h) / 30);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, fontSize));
      FontMetrics fm = g.getFontMetrics();
      for (int i = 0; i < detections.getNumberOfObjects(); i++) {
        DetectedObjects.DetectedObject obj = detections.item(i);
        BoundingBox box = obj.getBoundingBox();
        Rectangle r = box.getBounds();
        int x = (int) Math.round(r.getX() * w);
        int y = (int) Math.round(r.getY() * h);
        int bw = (int) Math.round(r.getWidth() * w);
        int bh = (int) Math.round(r.getHeight() * h);
        Color c = colorOf(obj.getClassName());
        g.setColor(c);
        g.setStroke(new BasicStroke(stroke));
        g.drawRect(x, y, bw, bh);
        String tag =
            String.format(Locale.ROOT, "%s %.2f", obj.getClassName(), obj.getProbability());
        int tw = fm.stringWidth(tag) + 6;
        int th = fm.getHeight();
        int ty = y - th >= 0 ? y - th : y;
        g.fillRect(x, ty, tw, th);
        g.setColor(brightness(c) > 150 ? Color.BLACK : Color.WHITE);
        g.drawString(tag, x + 3, ty + fm.getAscent());
      }
    } finally {
      g.dispose();
    }
    return out;
  }

  /**
   * Writes an image as PNG.
   *
   * @param image the image
   * @param file the target file (parent folders are created)
   * @throws IOException if writing fails
   */
  public static void savePng(BufferedImage image, Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer available");
    }
  }

  private static Color colorOf(String className) {
    return PALETTE[Math.floorMod(className.hashCode(), PALETTE.length)];
  }

  private static int brightness(Color c) {
    return (299 * c.getRed() + 587 * c.getGreen() + 114 * c.getBlue()) / 1000;
  }
}
