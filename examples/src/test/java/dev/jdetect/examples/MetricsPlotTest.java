package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdetect.train.TrainingHistory;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsPlotTest {

  @Test
  void writesTwoPanelsOfLossesAndMetrics(@TempDir Path dir) throws IOException {
    TrainingHistory history = new TrainingHistory();
    for (int e = 0; e < 6; e++) {
      history.add(
          new TrainingHistory.Epoch(
              e,
              4L * (e + 1),
              0.01,
              1.5,
              Map.of("loss", 2.0 / (e + 1), "loss_box_reg", 1.0 / (e + 1)),
              Map.of("mAP@0.5", 0.1 * (e + 1))));
    }
    Path png = dir.resolve("metrics.png");
    MetricsPlot.write(history, png);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(1040, img.getWidth());
    assertEquals(400, img.getHeight());
    // curves in colour (not only black axes and text) in both panels
    assertTrue(colouredPixels(img, 0) > 100, "loss panel has no curve");
    assertTrue(colouredPixels(img, 520) > 100, "metrics panel has no curve");
    try (Stream<Path> files = Files.list(dir)) {
      assertFalse(files.anyMatch(p -> p.toString().endsWith(".tmp")));
    }
  }

  private static int colouredPixels(BufferedImage img, int x0) {
    int n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = x0; x < x0 + 520; x++) {
        int rgb = img.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
          n++;
        }
      }
    }
    return n;
  }
}
