package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectionDrawerTest {

  @Test
  void drawerPaintsBoxEdgesOnly(@TempDir Path dir) throws IOException {
    BufferedImage white = new BufferedImage(100, 100, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 100; y++) {
      for (int x = 0; x < 100; x++) {
        white.setRGB(x, y, 0xffffff);
      }
    }
    DetectedObjects dets =
        new DetectedObjects(
            List.of("cat"), List.of(0.8), List.of(new Rectangle(0.2, 0.4, 0.5, 0.4)));
    BufferedImage drawn = DetectionDrawer.draw(ImageFactory.getInstance().fromImage(white), dets);
    assertNotEquals(0xffffff, drawn.getRGB(20, 60) & 0xffffff, "left edge");
    assertNotEquals(0xffffff, drawn.getRGB(70, 60) & 0xffffff, "right edge");
    assertEquals(0xffffff, drawn.getRGB(45, 60) & 0xffffff, "inside");
    assertEquals(0xffffff, drawn.getRGB(90, 90) & 0xffffff, "outside");
    Path png = dir.resolve("out/d.png");
    DetectionDrawer.savePng(drawn, png);
    BufferedImage back = ImageIO.read(png.toFile());
    assertEquals(100, back.getWidth());
    assertEquals(drawn.getRGB(20, 60), back.getRGB(20, 60));
  }
}
