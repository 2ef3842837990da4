package dev.jdetect.examples;

import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.TrainingHistory;
import dev.jdetect.train.TrainingListener;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws the curves of a {@link TrainingHistory} into a PNG with plain {@code java.awt} (works
 * headless): on the left the mean losses per epoch, on the right the validation metrics (mAP etc.)
 * on a {@code [0, 1]} axis. As a {@link TrainingListener} it redraws {@code metrics.png} in its
 * folder after every epoch.
 */
public final class MetricsPlot implements TrainingListener {

  private static final Color[] PALETTE = {
    new Color(31, 119, 180),
    new Color(255, 127, 14),
    new Color(44, 160, 44),
    new Color(214, 39, 40),
    new Color(148, 103, 189),
    new Color(140, 86, 75),
    new Color(227, 119, 194),
    new Color(127, 127, 127)
  };
  private static final int PANEL_W = 520;
  private static final int PANEL_H = 400;
  private static final int MARGIN_L = 60;
  private static final int MARGIN_R = 15;
  private static final int MARGIN_T = 30;
  private static final int MARGIN_B = 45;

  private final Path dir;

  /**
   * Creates a listener that writes {@code metrics.png} into a folder after every epoch.
   *
   * @param dir the folder (created when needed)
   */
  public MetricsPlot(Path dir) {
    this.dir = dir;
  }

  @Override
  public void onEpochEnd(DetectionTrainer trainer, TrainingHistory.Epoch record)
      throws IOException {
    Files.createDirectories(dir);
    write(trainer.getHistory(), dir.resolve("metrics.png"));
  }

  /**
   * Renders the plot.
   *
   * @param history the history (may be empty)
   * @return an RGB image of two panels
   */
  public static BufferedImage render(TrainingHistory history) {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    BufferedImage img = new BufferedImage(2 * PANEL_W, PANEL_H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      List<String> losses = history.lossNames();
      List<String> metrics = history.metricNames();
      double maxLoss = 0;
      for (TrainingHistory.Epoch e : history.getEpochs()) {
        for (double v : e.getLosses().values()) {
          if (Double.isFinite(v)) {
            maxLoss = Math.max(maxLoss, v);
          }
        }
      }
      panel(g, 0, "loss per epoch", history, losses, true, maxLoss > 0 ? maxLoss * 1.05 : 1);
      panel(g, PANEL_W, "validation metrics", history, metrics, false, 1.0);
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * Renders the plot and writes it as a PNG, atomically.
   *
   * @param history the history
   * @param file the PNG file
   * @throws IOException if writing fails
   */
  public static void write(TrainingHistory history, Path file) throws IOException {
    BufferedImage img = render(history);
    Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".metrics", ".png.tmp");
    try {
      try (OutputStream out = Files.newOutputStream(tmp)) {
        if (!ImageIO.write(img, "png", out)) {
          throw new IOException("no PNG writer available");
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void panel(
      Graphics2D g,
      int x0,
      String title,
      TrainingHistory history,
      List<String> series,
      boolean lossPanel,
      double yMax) {
    int left = x0 + MARGIN_L;
    int right = x0 + PANEL_W - MARGIN_R;
    int top = MARGIN_T;
    int bottom = PANEL_H - MARGIN_B;
    List<TrainingHistory.Epoch> epochs = history.getEpochs();
    int firstEpoch = epochs.isEmpty() ? 1 : epochs.get(0).getEpoch() + 1;
    int lastEpoch = epochs.isEmpty() ? 1 : epochs.get(epochs.size() - 1).getEpoch() + 1;
    double xMin = firstEpoch;
    double xMax = Math.max(lastEpoch, firstEpoch + 1);

    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
    g.setColor(Color.BLACK);
    g.drawString(title, left, top - 10);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    g.setStroke(new BasicStroke(1f));
    for (int i = 0; i <= 5; i++) {
      double v = yMax * i / 5;
      int y = bottom - (int) Math.round((bottom - top) * i / 5.0);
      g.setColor(new Color(230, 230, 230));
      g.drawLine(left, y, right, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format(Locale.ROOT, lossPanel ? "%.3g" : "%.1f", v), x0 + 5, y + 4);
    }
    int ticks = (int) Math.min(10, xMax - xMin);
    for (int i = 0; i <= ticks; i++) {
      double e = xMin + (xMax - xMin) * i / ticks;
      int x = left + (int) Math.round((right - left) * (e - xMin) / (xMax - xMin));
      g.setColor(Color.DARK_GRAY);
      g.drawLine(x, bottom, x, bottom + 4);
      g.drawString(String.format(Locale.ROOT, "%.0f", e), x - 4, bottom + 16);
    }
    g.drawString("epoch", (left + right) / 2 - 15, bottom + 32);
    g.setColor(Color.BLACK);
    g.drawRect(left, top, right - left, bottom - top);
    if (series.isEmpty()) {
      g.setColor(Color.GRAY);
      g.drawString("(none)", (left + right) / 2 - 15, (top + bottom) / 2);
      return;
    }
    for (int s = 0; s < series.size(); s++) {
      String name = series.get(s);
      Color c = PALETTE[s % PALETTE.length];
      g.setColor(c);
      g.setStroke(new BasicStroke(name.equals("loss") ? 2.5f : 1.5f));
      List<int[]> pts = new ArrayList<>();
      for (TrainingHistory.Epoch e : epochs) {
        Double v = lossPanel ? e.getLosses().get(name) : e.getMetrics().get(name);
        if (v == null || !Double.isFinite(v)) {
          continue;
        }
        double clamped = Math.max(0, Math.min(yMax, v));
        int x = left + (int) Math.round((right - left) * (e.getEpoch() + 1 - xMin) / (xMax - xMin));
        int y = bottom - (int) Math.round((bottom - top) * clamped / yMax);
        pts.add(new int[] {x, y});
      }
      for (int i = 0; i < pts.size(); i++) {
        int[] p = pts.get(i);
        g.fillOval(p[0] - 3, p[1] - 3, 6, 6);
        if (i > 0) {
          int[] q = pts.get(i - 1);
          g.drawLine(q[0], q[1], p[0], p[1]);
        }
      }
      int ly = lossPanel ? top + 14 + 15 * s : bottom - 8 - 15 * (series.size() - 1 - s);
      g.setColor(new Color(255, 255, 255, 210));
      g.fillRect(right - 154, ly - 12, 150, 15);
      g.setColor(c);
      g.fillRect(right - 150, ly - 8, 12, 8);
      g.setColor(Color.BLACK);
      g.drawString(name, right - 133, ly);
    }
  }
}
