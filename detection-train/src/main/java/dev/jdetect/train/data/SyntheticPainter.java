package dev.jdetect.train.data;

import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.Random;

/**
 * Paints the pixels of {@link SyntheticDataGenerator}'s images: textured backgrounds, distractor
 * blobs, and objects (a banana crescent or one of the geometric shapes) on their own layer, plus
 * the rules for pasting a layer so that every object stays mostly visible. All randomness comes
 * from the generator's {@link Random}, in a fixed order, so an image depends only on its seed.
 */
final class SyntheticPainter {

  private final SyntheticDataGenerator.Kind kind;
  private final float minObjectSize;
  private final float maxObjectSize;

  SyntheticPainter(SyntheticDataGenerator.Kind kind, float minObjectSize, float maxObjectSize) {
    this.kind = kind;
    this.minObjectSize = minObjectSize;
    this.maxObjectSize = maxObjectSize;
  }

  static void paste(int[] layer, int[] pixels, int[] owner, int id) {
    for (int p = 0; p < layer.length; p++) {
      if ((layer[p] >>> 24) != 0) {
        pixels[p] = layer[p] | 0xff000000;
        owner[p] = id;
      }
    }
  }

  /** An object is accepted if it does not touch the border and leaves others >= 50% visible. */
  static boolean acceptable(int[] layer, int[] owner, int existing, int s) {
    int[] visible = new int[existing];
    int[] covered = new int[existing];
    int own = 0;
    for (int p = 0; p < layer.length; p++) {
      boolean mine = (layer[p] >>> 24) != 0;
      if (mine) {
        int x = p % s;
        int y = p / s;
        if (x == 0 || y == 0 || x == s - 1 || y == s - 1) {
          return false;
        }
        own++;
      }
      if (owner[p] >= 0) {
        visible[owner[p]]++;
        if (mine) {
          covered[owner[p]]++;
        }
      }
    }
    if (own < 16) {
      return false;
    }
    for (int i = 0; i < existing; i++) {
      if (2 * (visible[i] - covered[i]) < visible[i]) {
        return false;
      }
    }
    return true;
  }

  int[] drawObject(int label, int s, Random rng) {
    float size = s * (minObjectSize + rng.nextFloat() * (maxObjectSize - minObjectSize));
    double aspect =
        Math.exp(
            (rng.nextDouble() * 2 - 1)
                * Math.log(kind == SyntheticDataGenerator.Kind.BANANA ? 1.6 : 2));
    double w = size * Math.sqrt(aspect);
    double h = size / Math.sqrt(aspect);
    double r = 0.5 * Math.hypot(w, h);
    if (2 * r + 4 >= s) {
      double f = (s - 6) / (2 * r);
      w *= f;
      h *= f;
      r *= f;
    }
    double cx = r + 2 + rng.nextDouble() * (s - 4 - 2 * r);
    double cy = r + 2 + rng.nextDouble() * (s - 4 - 2 * r);
    double angle =
        kind == SyntheticDataGenerator.Kind.BANANA
            ? rng.nextDouble() * 2 * Math.PI
            : (rng.nextDouble() - 0.5) * Math.PI / 2;
    Shape unit;
    Color base;
    if (kind == SyntheticDataGenerator.Kind.BANANA) {
      unit = crescent(0.18 + 0.12 * rng.nextDouble());
      float hue = (45f + 15f * rng.nextFloat()) / 360f;
      base = Color.getHSBColor(hue, 0.65f + 0.3f * rng.nextFloat(), 0.8f + 0.2f * rng.nextFloat());
    } else {
      unit = unitShape(label);
      base =
          Color.getHSBColor(
              rng.nextFloat(), 0.5f + 0.5f * rng.nextFloat(), 0.35f + 0.65f * rng.nextFloat());
    }
    AffineTransform t = new AffineTransform();
    t.translate(cx, cy);
    t.rotate(angle);
    t.scale(w, h);
    Shape shape = t.createTransformedShape(unit);
    BufferedImage layer = new BufferedImage(s, s, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = layer.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
      Color dark = base.darker();
      g.setPaint(
          new GradientPaint(
              (float) (cx - w / 2), (float) cy, base, (float) (cx + w / 2), (float) cy, dark));
      g.fill(shape);
      if (kind == SyntheticDataGenerator.Kind.SHAPES && rng.nextBoolean()) {
        g.setColor(dark.darker());
        g.setStroke(new java.awt.BasicStroke(1.5f));
        g.draw(shape);
      }
    } finally {
      g.dispose();
    }
    return ((DataBufferInt) layer.getRaster().getDataBuffer()).getData();
  }

  /**
   * The unit disc minus the same disc moved down by {@code off}: a crescent opening downwards, as a
   * polygon.
   */
  private static Shape crescent(double off) {
    double a = Math.asin(off);
    int n = 24;
    Path2D p = new Path2D.Double();
    // outer arc of the first disc, from the right intersection over the top to the left one
    for (int i = 0; i <= n; i++) {
      double phi = a - (Math.PI + 2 * a) * i / n;
      double x = 0.5 * Math.cos(phi);
      double y = 0.5 * Math.sin(phi);
      if (i == 0) {
        p.moveTo(x, y);
      } else {
        p.lineTo(x, y);
      }
    }
    // inner arc of the moved disc, from the left intersection back to the right one
    for (int i = 1; i < n; i++) {
      double psi = -Math.PI + a + (Math.PI - 2 * a) * i / n;
      p.lineTo(0.5 * Math.cos(psi), off + 0.5 * Math.sin(psi));
    }
    p.closePath();
    return p;
  }

  private static Shape unitShape(int label) {
    switch (label) {
      case 1:
        return new Ellipse2D.Double(-0.5, -0.5, 1, 1);
      case 2:
        return new Rectangle2D.Double(-0.5, -0.5, 1, 1);
      case 3:
        {
          Path2D p = new Path2D.Double();
          p.moveTo(0, -0.5);
          p.lineTo(0.5, 0.5);
          p.lineTo(-0.5, 0.5);
          p.closePath();
          return p;
        }
      case 4:
        {
          Path2D p = new Path2D.Double();
          for (int i = 0; i < 10; i++) {
            double rad = i % 2 == 0 ? 0.5 : 0.2;
            double a = -Math.PI / 2 + i * Math.PI / 5;
            double x = rad * Math.cos(a);
            double y = rad * Math.sin(a);
            if (i == 0) {
              p.moveTo(x, y);
            } else {
              p.lineTo(x, y);
            }
          }
          p.closePath();
          return p;
        }
      default:
        {
          double[] xy = {
            -0.15, -0.5, 0.15, -0.5, 0.15, -0.15, 0.5, -0.15, 0.5, 0.15, 0.15, 0.15, 0.15, 0.5,
            -0.15, 0.5, -0.15, 0.15, -0.5, 0.15, -0.5, -0.15, -0.15, -0.15
          };
          Path2D p = new Path2D.Double();
          p.moveTo(xy[0], xy[1]);
          for (int i = 2; i < xy.length; i += 2) {
            p.lineTo(xy[i], xy[i + 1]);
          }
          p.closePath();
          return p;
        }
    }
  }

  static void background(int[] px, int s, Random rng) {
    int c1 = randomColor(rng);
    int c2 = randomColor(rng);
    int type = rng.nextInt(4);
    int cell = 4 + rng.nextInt(Math.max(1, s / 8));
    double dirX = rng.nextDouble() * 2 - 1;
    double dirY = rng.nextDouble() * 2 - 1;
    int grid = 3 + rng.nextInt(5);
    int[] knots = new int[(grid + 1) * (grid + 1)];
    for (int i = 0; i < knots.length; i++) {
      knots[i] = randomColor(rng);
    }
    for (int y = 0; y < s; y++) {
      for (int x = 0; x < s; x++) {
        int c;
        switch (type) {
          case 0:
            {
              double t = 0.5 + 0.5 * (dirX * (x - s / 2.0) + dirY * (y - s / 2.0)) / s;
              c = lerp(c1, c2, Math.max(0, Math.min(1, t)));
              break;
            }
          case 1:
            c = ((x / cell) + (y / cell)) % 2 == 0 ? c1 : c2;
            break;
          case 2:
            {
              double gx = (double) x * grid / s;
              double gy = (double) y * grid / s;
              int ix = (int) gx;
              int iy = (int) gy;
              double fx = gx - ix;
              double fy = gy - iy;
              int top = lerp(knots[iy * (grid + 1) + ix], knots[iy * (grid + 1) + ix + 1], fx);
              int bot =
                  lerp(
                      knots[(iy + 1) * (grid + 1) + ix], knots[(iy + 1) * (grid + 1) + ix + 1], fx);
              c = lerp(top, bot, fy);
              break;
            }
          default:
            c = ((int) Math.floor((x * dirX + y * dirY) / cell) & 1) == 0 ? c1 : c2;
        }
        px[y * s + x] = c;
      }
    }
  }

  static void distractor(int[] px, int s, Random rng) {
    float hue = (90f + 240f * rng.nextFloat()) / 360f; // never yellow
    int c = Color.getHSBColor(hue, rng.nextFloat(), 0.3f + 0.6f * rng.nextFloat()).getRGB();
    int w = 4 + rng.nextInt(Math.max(1, s / 5));
    int h = 4 + rng.nextInt(Math.max(1, s / 5));
    int x0 = rng.nextInt(s);
    int y0 = rng.nextInt(s);
    boolean ellipse = rng.nextBoolean();
    for (int y = y0; y < Math.min(s, y0 + h); y++) {
      for (int x = x0; x < Math.min(s, x0 + w); x++) {
        if (ellipse) {
          double dx = (x - x0 - w / 2.0) / (w / 2.0);
          double dy = (y - y0 - h / 2.0) / (h / 2.0);
          if (dx * dx + dy * dy > 1) {
            continue;
          }
        }
        px[y * s + x] = c;
      }
    }
  }

  private static int randomColor(Random rng) {
    return Color.getHSBColor(rng.nextFloat(), 0.6f * rng.nextFloat(), 0.2f + 0.7f * rng.nextFloat())
        .getRGB();
  }

  private static int lerp(int a, int b, double t) {
    int r = (int) Math.round(((a >> 16) & 0xff) * (1 - t) + ((b >> 16) & 0xff) * t);
    int g = (int) Math.round(((a >> 8) & 0xff) * (1 - t) + ((b >> 8) & 0xff) * t);
    int bl = (int) Math.round((a & 0xff) * (1 - t) + (b & 0xff) * t);
    return 0xff000000 | (r << 16) | (g << 8) | bl;
  }

  static int clamp8(int v) {
    return Math.max(0, Math.min(255, v));
  }
}
