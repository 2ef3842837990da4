package dev.jdetect.train.data;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

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
    Random rng = new Random(mix(seed, index, 0x5EED));
    int s = imageSize;
    int[] pixels = new int[s * s];
    SyntheticPainter painter = new SyntheticPainter(kind, minObjectSize, maxObjectSize);
    SyntheticPainter.background(pixels, s, rng);
    if (kind == Kind.BANANA) {
      int k = rng.nextInt(4);
      for (int i = 0; i < k; i++) {
        SyntheticPainter.distractor(pixels, s, rng);
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
        int[] layer = painter.drawObject(label, s, rng);
        last = layer;
        if (!SyntheticPainter.acceptable(layer, owner, labels.size(), s)) {
          continue;
        }
        SyntheticPainter.paste(layer, pixels, owner, labels.size());
        labels.add(label);
        last = null;
        break;
      }
      if (kind == Kind.BANANA && last != null && labels.isEmpty()) {
        // tiny images: keep the banana even if it is very small, so every image has one
        SyntheticPainter.paste(last, pixels, owner, 0);
        labels.add(1);
      }
    }
    // small per-pixel noise so that no two images are flat
    for (int p = 0; p < pixels.length; p++) {
      int n = rng.nextInt(9) - 4;
      pixels[p] =
          0xff000000
              | (SyntheticPainter.clamp8(((pixels[p] >> 16) & 0xff) + n) << 16)
              | (SyntheticPainter.clamp8(((pixels[p] >> 8) & 0xff) + n) << 8)
              | SyntheticPainter.clamp8((pixels[p] & 0xff) + n);
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
    return writer().writeCsv(dir);
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
    return writer().writeVoc(root);
  }

  /**
   * Writes the set in the COCO layout: {@code root/<split>/<id>.jpg} (quality 0.95, ids {@code
   * 000001, ...}) and {@code root/annotations/instances_<split>.json} with image ids 1..N, category
   * ids 1..C, {@code bbox = [x, y, w, h]}, {@code area = w * h} and {@code iscrowd = 0}. Read it
   * back with {@code CocoReader.builder().setAnnotationFile(...).optImageDir(root
   * .resolve(split))}.
   *
   * @param root the output folder (created if needed)
   * @param split the split name, e.g. {@code "train"}
   * @return the annotations of the written images (ids as written: "1", "2", ...)
   * @throws IOException if writing fails
   */
  public AnnotationSet writeCoco(Path root, String split) throws IOException {
    return writer().writeCoco(root, split);
  }

  private SyntheticDataWriter writer() {
    return new SyntheticDataWriter(this, numImages, imageSize, trainFraction);
  }

  static long mix(long seed, long index, long count) {
    long z = seed ^ (index * 0x9E3779B97F4A7C15L) ^ (count * 0xC2B2AE3D27D4EB4FL + 0x165667B1L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
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
