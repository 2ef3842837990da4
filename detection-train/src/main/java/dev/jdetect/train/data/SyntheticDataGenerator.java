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
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Generates small synthetic detection datasets, deterministically from a seed, and writes them as
 * real files in the VOC, CSV and COCO layouts so the same readers are exercised as with real data.
 *
 * <ul>
 *   <li>{@link Kind#BANANA}: a single class ("banana"); exactly one yellow crescent per image, of
 *       varied size, rotation and shade, pasted on a varied background (gradients, checkerboards,
 *       smooth noise, stripes) with a few non-yellow distractor blobs.
 *   <li>{@link Kind#SHAPES}: 3 to 5 classes ({@code ellipse, rectangle, triangle, star, cross}, the
 *       first C of them); 1..{@code maxObjects} objects per image of varied size, aspect ratio,
 *       rotation and colour on textured backgrounds. Objects may overlap, but each keeps at least
 *       half of its pixels visible.
 * </ul>
 *
 * <p>Boxes are the tight extent of each object's <em>visible</em> pixels (VOC's convention), as
 * integer continuous-pixel boxes {@code (x1, y1, x2, y2)}: a box around pixel columns {@code 3..7}
 * is {@code x1 = 3, x2 = 8}. Image {@code i} depends only on the seed and {@code i}, not on how
 * many images are generated. Rendering uses Java2D without anti-aliasing and works headless.
 */
public final class SyntheticDataGenerator {

  /** The kind of synthetic set. */
  public enum Kind {
    /** One "banana" per image (D2L's banana detection task). */
    BANANA,
    /** Several geometric shapes of 3-5 classes per image. */
    SHAPES
  }

  private static final List<String> SHAPE_NAMES =
      List.of("ellipse", "rectangle", "triangle", "star", "cross");

  private final Kind kind;
  private final long seed;
  private final int numImages;
  private final int imageSize;
  private final int numClasses;
  private final int maxObjects;
  private final float minObjectSize;
  private final float maxObjectSize;
  private final float trainFraction;

  private SyntheticDataGenerator(Builder b) {
    this.kind = b.kind;
    this.seed = b.seed;
    this.numImages = b.numImages;
    this.imageSize = b.imageSize;
    this.numClasses = kind == Kind.BANANA ? 1 : b.numClasses;
    this.maxObjects = kind == Kind.BANANA ? 1 : b.maxObjects;
    this.minObjectSize = b.minObjectSize;
    this.maxObjectSize = b.maxObjectSize;
    this.trainFraction = b.trainFraction;
    if (minObjectSize > maxObjectSize) {
      throw new IllegalArgumentException(
          "minObjectSize " + minObjectSize + " > maxObjectSize " + maxObjectSize);
    }
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the class names (label {@code k} is at index {@code k - 1}).
   *
   * @return the names
   */
  public List<String> getClassNames() {
    return kind == Kind.BANANA ? List.of("banana") : SHAPE_NAMES.subList(0, numClasses);
  }

  /**
   * Returns the number of images this generator writes.
   *
   * @return the count
   */
  public int getNumImages() {
    return numImages;
  }

  /** One generated image with its objects. */
  public static final class SyntheticImage {
    private final BufferedImage image;
    private final List<ObjectAnnotation> objects;

    SyntheticImage(BufferedImage image, List<ObjectAnnotation> objects) {
      this.image = image;
      this.objects = List.copyOf(objects);
    }

    /**
     * Returns the RGB image.
     *
     * @return the image
     */
    public BufferedImage getImage() {
      return image;
    }

    /**
     * Returns the objects (tight boxes of visible pixels, labels 1..C).
     *
     * @return the objects
     */
    public List<ObjectAnnotation> getObjects() {
      return objects;
    }
  }

  /**
   * Generates image {@code index} in memory.
   *
   * @param index the image index, {@code >= 0}
   * @return the image and its objects
   */
  public SyntheticImage generate(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, got " + index);
    }
    Random rng = new Random(DetectionDataset.mix(seed, index, 0x5EED));
    int s = imageSize;
    int[] pixels = new int[s * s];
    background(pixels, s, rng);
    if (kind == Kind.BANANA) {
      int k = rng.nextInt(4);
      for (int i = 0; i < k; i++) {
        distractor(pixels, s, rng);
      }
    }
    int[] owner = new int[s * s];
    java.util.Arrays.fill(owner, -1);
    List<Integer> labels = new ArrayList<>();
    int count = kind == Kind.BANANA ? 1 : 1 + rng.nextInt(maxObjects);
    for (int o = 0; o < count; o++) {
      int[] last = null;
      for (int attempt = 0; attempt < 30; attempt++) {
        int label = kind == Kind.BANANA ? 1 : 1 + rng.nextInt(numClasses);
        int[] layer = drawObject(label, s, rng);
        last = layer;
        if (!acceptable(layer, owner, labels.size(), s)) {
          continue;
        }
        paste(layer, pixels, owner, labels.size());
        labels.add(label);
        last = null;
        break;
      }
      if (kind == Kind.BANANA && last != null && labels.isEmpty()) {
        // tiny images: keep the banana even if it is very small, so every image has one
        paste(last, pixels, owner, 0);
        labels.add(1);
      }
    }
    // small per-pixel noise so that no two images are flat
    for (int p = 0; p < pixels.length; p++) {
      int n = rng.nextInt(9) - 4;
      pixels[p] =
          0xff000000
              | (clamp8(((pixels[p] >> 16) & 0xff) + n) << 16)
              | (clamp8(((pixels[p] >> 8) & 0xff) + n) << 8)
              | clamp8((pixels[p] & 0xff) + n);
    }
    List<ObjectAnnotation> objects = new ArrayList<>();
    for (int id = 0; id < labels.size(); id++) {
      int x1 = s;
      int y1 = s;
      int x2 = -1;
      int y2 = -1;
      for (int p = 0; p < owner.length; p++) {
        if (owner[p] == id) {
          int x = p % s;
          int y = p / s;
          x1 = Math.min(x1, x);
          y1 = Math.min(y1, y);
          x2 = Math.max(x2, x);
          y2 = Math.max(y2, y);
        }
      }
      if (x2 >= 0) {
        objects.add(new ObjectAnnotation(labels.get(id), x1, y1, x2 + 1, y2 + 1, false, false));
      }
    }
    BufferedImage img = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
    int[] data = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
    for (int p = 0; p < pixels.length; p++) {
      data[p] = pixels[p] & 0xffffff;
    }
    return new SyntheticImage(img, objects);
  }

  private static void paste(int[] layer, int[] pixels, int[] owner, int id) {
    for (int p = 0; p < layer.length; p++) {
      if ((layer[p] >>> 24) != 0) {
        pixels[p] = layer[p] | 0xff000000;
        owner[p] = id;
      }
    }
  }

  /** An object is accepted if it does not touch the border and leaves others >= 50% visible. */
  private static boolean acceptable(int[] layer, int[] owner, int existing, int s) {
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

  private int[] drawObject(int label, int s, Random rng) {
    float size = s * (minObjectSize + rng.nextFloat() * (maxObjectSize - minObjectSize));
    double aspect = Math.exp((rng.nextDouble() * 2 - 1) * Math.log(kind == Kind.BANANA ? 1.6 : 2));
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
        kind == Kind.BANANA
            ? rng.nextDouble() * 2 * Math.PI
            : (rng.nextDouble() - 0.5) * Math.PI / 2;
    Shape unit;
    Color base;
    if (kind == Kind.BANANA) {
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
      if (kind == Kind.SHAPES && rng.nextBoolean()) {
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

  private static void background(int[] px, int s, Random rng) {
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

  private static void distractor(int[] px, int s, Random rng) {
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

  private static int clamp8(int v) {
    return Math.max(0, Math.min(255, v));
  }

  /**
   * Writes the set in the CSV (D2L banana) layout: {@code dir/images/<i>.png} and {@code
   * dir/label.csv} with rows {@code img_name,label,xmin,ymin,xmax,ymax} where {@code label} is the
   * 0-based class index (as D2L writes it) and coordinates are the integer continuous-pixel box.
   * Read it back with {@code CsvReader.builder().setCsvFile(dir.resolve("label.csv"))
   * .setClasses(generator.getClassNames())}.
   *
   * @param dir the output folder (created if needed)
   * @return the annotations of the written files
   * @throws IOException if writing fails
   */
  public AnnotationSet writeCsv(Path dir) throws IOException {
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    List<ImageAnnotation> out = new ArrayList<>();
    try (Writer w = Files.newBufferedWriter(dir.resolve("label.csv"), StandardCharsets.UTF_8)) {
      w.write("img_name,label,xmin,ymin,xmax,ymax\n");
      for (int i = 0; i < numImages; i++) {
        SyntheticImage si = generate(i);
        String name = i + ".png";
        Path file = images.resolve(name);
        writeImage(si.getImage(), "png", 0.75f, file);
        for (ObjectAnnotation o : si.getObjects()) {
          w.write(
              String.format(
                  Locale.ROOT,
                  "%s,%d,%d,%d,%d,%d%n",
                  name,
                  o.getLabel() - 1,
                  (int) o.getX1(),
                  (int) o.getY1(),
                  (int) o.getX2(),
                  (int) o.getY2()));
        }
        if (si.getObjects().isEmpty()) {
          w.write(name + ",,,,,\n");
        }
        out.add(new ImageAnnotation(name, file, imageSize, imageSize, si.getObjects()));
      }
    }
    return new AnnotationSet(getClassNames(), out);
  }

  /**
   * Writes the set in the VOCdevkit layout under {@code root}: {@code JPEGImages/<id>.jpg} (quality
   * 0.95), {@code Annotations/<id>.xml} (1-based inclusive coordinates, see {@link VocReader}),
   * {@code ImageSets/Main/train.txt}, {@code val.txt} and {@code trainval.txt} (the first {@code
   * trainFraction} of the images are train), and {@code classes.txt}. Ids are {@code 000000,
   * 000001, ...}.
   *
   * @param root the output folder (created if needed)
   * @return the annotations of all written images (trainval)
   * @throws IOException if writing fails
   */
  public AnnotationSet writeVoc(Path root) throws IOException {
    Path jpeg = root.resolve("JPEGImages");
    Path ann = root.resolve("Annotations");
    Path sets = root.resolve("ImageSets").resolve("Main");
    Files.createDirectories(jpeg);
    Files.createDirectories(ann);
    Files.createDirectories(sets);
    Files.write(root.resolve("classes.txt"), getClassNames(), StandardCharsets.UTF_8);
    int numTrain = Math.round(numImages * trainFraction);
    List<String> train = new ArrayList<>();
    List<String> val = new ArrayList<>();
    List<String> all = new ArrayList<>();
    List<ImageAnnotation> out = new ArrayList<>();
    for (int i = 0; i < numImages; i++) {
      SyntheticImage si = generate(i);
      String id = String.format(Locale.ROOT, "%06d", i);
      Path file = jpeg.resolve(id + ".jpg");
      writeImage(si.getImage(), "jpg", 0.95f, file);
      Files.writeString(ann.resolve(id + ".xml"), vocXml(id, si), StandardCharsets.UTF_8);
      (i < numTrain ? train : val).add(id);
      all.add(id);
      out.add(new ImageAnnotation(id, file, imageSize, imageSize, si.getObjects()));
    }
    Files.write(sets.resolve("train.txt"), train, StandardCharsets.UTF_8);
    Files.write(sets.resolve("val.txt"), val, StandardCharsets.UTF_8);
    Files.write(sets.resolve("trainval.txt"), all, StandardCharsets.UTF_8);
    return new AnnotationSet(getClassNames(), out);
  }

  /**
   * Writes the set in the COCO layout: {@code root/<split>/<id>.jpg} (quality 0.95, ids {@code
   * 000001, ...}) and {@code root/annotations/instances_<split>.json} with image ids 1..N, category
   * ids 1..C, {@code bbox = [x, y, w, h]}, {@code area = w * h} and {@code iscrowd = 0}. Read it
   * back with {@code CocoReader.builder().setAnnotationFile(...).setImageDir(root
   * .resolve(split))}.
   *
   * @param root the output folder (created if needed)
   * @param split the split name, e.g. {@code "train"}
   * @return the annotations of the written images (ids as written: "1", "2", ...)
   * @throws IOException if writing fails
   */
  public AnnotationSet writeCoco(Path root, String split) throws IOException {
    Objects.requireNonNull(split, "split");
    Path imageDir = root.resolve(split);
    Path annDir = root.resolve("annotations");
    Files.createDirectories(imageDir);
    Files.createDirectories(annDir);
    List<ImageAnnotation> out = new ArrayList<>();
    try (com.google.gson.stream.JsonWriter w =
        new com.google.gson.stream.JsonWriter(
            Files.newBufferedWriter(
                annDir.resolve("instances_" + split + ".json"), StandardCharsets.UTF_8))) {
      w.beginObject();
      w.name("categories").beginArray();
      for (int c = 0; c < getClassNames().size(); c++) {
        w.beginObject().name("id").value(c + 1).name("name").value(getClassNames().get(c));
        w.endObject();
      }
      w.endArray();
      List<SyntheticImage> generated = new ArrayList<>();
      w.name("images").beginArray();
      for (int i = 0; i < numImages; i++) {
        SyntheticImage si = generate(i);
        String name = String.format(Locale.ROOT, "%06d.jpg", i + 1);
        Path file = imageDir.resolve(name);
        writeImage(si.getImage(), "jpg", 0.95f, file);
        w.beginObject().name("id").value(i + 1).name("file_name").value(name);
        w.name("width").value(imageSize).name("height").value(imageSize).endObject();
        out.add(new ImageAnnotation("" + (i + 1), file, imageSize, imageSize, si.getObjects()));
        generated.add(new SyntheticImage(null, si.getObjects()));
      }
      w.endArray();
      w.name("annotations").beginArray();
      int annId = 1;
      for (int i = 0; i < generated.size(); i++) {
        for (ObjectAnnotation o : generated.get(i).getObjects()) {
          float bw = o.getX2() - o.getX1();
          float bh = o.getY2() - o.getY1();
          w.beginObject().name("id").value(annId++).name("image_id").value(i + 1);
          w.name("category_id").value(o.getLabel());
          w.name("bbox").beginArray().value((int) o.getX1()).value((int) o.getY1());
          w.value((int) bw).value((int) bh).endArray();
          w.name("area").value((int) (bw * bh)).name("iscrowd").value(0).endObject();
        }
      }
      w.endArray();
      w.endObject();
    }
    return new AnnotationSet(getClassNames(), out);
  }

  private String vocXml(String id, SyntheticImage si) {
    StringBuilder sb = new StringBuilder();
    sb.append("<annotation>\n");
    sb.append("  <folder>synthetic</folder>\n");
    sb.append("  <filename>").append(id).append(".jpg</filename>\n");
    sb.append("  <size>\n    <width>").append(imageSize).append("</width>\n    <height>");
    sb.append(imageSize).append("</height>\n    <depth>3</depth>\n  </size>\n");
    for (ObjectAnnotation o : si.getObjects()) {
      sb.append("  <object>\n    <name>").append(getClassNames().get(o.getLabel() - 1));
      sb.append("</name>\n    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n");
      sb.append("    <difficult>0</difficult>\n    <bndbox>\n");
      sb.append("      <xmin>").append((int) o.getX1() + 1).append("</xmin>\n");
      sb.append("      <ymin>").append((int) o.getY1() + 1).append("</ymin>\n");
      sb.append("      <xmax>").append((int) o.getX2()).append("</xmax>\n");
      sb.append("      <ymax>").append((int) o.getY2()).append("</ymax>\n");
      sb.append("    </bndbox>\n  </object>\n");
    }
    sb.append("</annotation>\n");
    return sb.toString();
  }

  /** Writes with an explicit compression quality (JPEG: quality; PNG: speed over size). */
  private static void writeImage(BufferedImage img, String format, float quality, Path file)
      throws IOException {
    java.util.Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
    if (!writers.hasNext()) {
      throw new IOException("no " + format + " writer available");
    }
    ImageWriter writer = writers.next();
    Files.deleteIfExists(file);
    try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      if (p.canWriteCompressed()) {
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality);
      }
      writer.write(null, new IIOImage(img, null, null), p);
    } finally {
      writer.dispose();
    }
  }

  /** Builder for {@link SyntheticDataGenerator}. */
  public static final class Builder {
    private Kind kind = Kind.BANANA;
    private long seed;
    private int numImages = 100;
    private int imageSize = 256;
    private int numClasses = 3;
    private int maxObjects = 4;
    private float minObjectSize = 0.15f;
    private float maxObjectSize = 0.45f;
    private float trainFraction = 0.8f;

    private Builder() {}

    /**
     * Sets the kind of set. Default {@link Kind#BANANA}.
     *
     * @param kind the kind
     * @return this builder
     */
    public Builder optKind(Kind kind) {
      this.kind = Objects.requireNonNull(kind, "kind");
      return this;
    }

    /**
     * Sets the seed. Default 0.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets the number of images written. Default 100.
     *
     * @param numImages the count, {@code >= 1}
     * @return this builder
     */
    public Builder optNumImages(int numImages) {
      if (numImages < 1) {
        throw new IllegalArgumentException("numImages must be >= 1, got " + numImages);
      }
      this.numImages = numImages;
      return this;
    }

    /**
     * Sets the side of the square images. Default 256.
     *
     * @param imageSize the side in pixels, {@code >= 32}
     * @return this builder
     */
    public Builder optImageSize(int imageSize) {
      if (imageSize < 32) {
        throw new IllegalArgumentException("imageSize must be >= 32, got " + imageSize);
      }
      this.imageSize = imageSize;
      return this;
    }

    /**
     * Sets the number of classes of the shapes set (ignored for bananas). Default 3.
     *
     * @param numClasses 3 to 5
     * @return this builder
     */
    public Builder optNumClasses(int numClasses) {
      if (numClasses < 3 || numClasses > 5) {
        throw new IllegalArgumentException("numClasses must be in 3..5, got " + numClasses);
      }
      this.numClasses = numClasses;
      return this;
    }

    /**
     * Sets the maximum number of objects per image of the shapes set (ignored for bananas). Default
     * 4.
     *
     * @param maxObjects the maximum, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxObjects(int maxObjects) {
      if (maxObjects < 1) {
        throw new IllegalArgumentException("maxObjects must be >= 1, got " + maxObjects);
      }
      this.maxObjects = maxObjects;
      return this;
    }

    /**
     * Sets the object size range as a fraction of the image side. Default 0.15 to 0.45.
     *
     * @param min the smallest size, in (0, 1]
     * @param max the largest size, in [min, 1]
     * @return this builder
     */
    public Builder optObjectSizeRange(float min, float max) {
      if (!(min > 0) || !(max <= 1) || min > max) {
        throw new IllegalArgumentException(
            "object size range must satisfy 0 < min <= max <= 1, got " + min + ", " + max);
      }
      this.minObjectSize = min;
      this.maxObjectSize = max;
      return this;
    }

    /**
     * Sets the fraction of images in the VOC {@code train} split (the rest is {@code val}). Default
     * 0.8.
     *
     * @param trainFraction the fraction in [0, 1]
     * @return this builder
     */
    public Builder optTrainFraction(float trainFraction) {
      if (!(trainFraction >= 0 && trainFraction <= 1)) {
        throw new IllegalArgumentException("trainFraction must be in [0, 1], got " + trainFraction);
      }
      this.trainFraction = trainFraction;
      return this;
    }

    /**
     * Builds the generator.
     *
     * @return the generator
     */
    public SyntheticDataGenerator build() {
      return new SyntheticDataGenerator(this);
    }
  }
}
