package dev.jdetect.train.data;

import dev.jdetect.train.data.VocXml.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Reads a Pascal VOC dataset in the VOCdevkit layout.
 *
 * <pre>
 * root/                      (e.g. VOCdevkit/VOC2007)
 *   JPEGImages/&lt;id&gt;.jpg
 *   Annotations/&lt;id&gt;.xml
 *   ImageSets/Main/&lt;split&gt;.txt   (one image id per line)
 *   classes.txt              (optional, one class name per line; see setClasses)
 * </pre>
 *
 * <p><b>Coordinates.</b> VOC stores {@code xmin, ymin, xmax, ymax} as 1-based, inclusive pixel
 * indices. Pixel {@code i} (1-based) covers the continuous interval {@code [i - 1, i)}, so this
 * reader returns {@code (xmin - 1, ymin - 1, xmax, ymax)}: the box width {@code xmax - xmin + 1} is
 * the number of pixels covered, and IoU computed on these boxes without the devkit's "+1" equals
 * the devkit's IoU. Writers use the inverse ({@link SyntheticDataGenerator}).
 *
 * <p><b>Classes.</b> Labels are 1..C in the order of the class list: {@link Builder#setClasses} or
 * {@link Builder#optClassFile} if given, else the names collected from the split's annotations
 * ({@link Builder#optClassesFromAnnotations}), else {@code root/classes.txt} if present, else the
 * 20 standard VOC classes ({@link #VOC_CLASSES}). {@link AnnotationSet#getClassNames()} returns the
 * list ({@link AnnotationSet#writeClassNames} saves it next to a model).
 *
 * <p><b>Boxes outside the image.</b> A box sticking out by at most the tolerance (default 1 pixel)
 * is clipped silently; by more, the {@link BoxPolicy} decides.
 *
 * <p><b>Difficult.</b> All objects are kept with their {@code difficult} flag; {@link SampleData}
 * drops difficult objects from training targets unless told otherwise, and the VOC evaluator
 * ignores them.
 *
 * <p><b>Errors.</b> A missing split file always throws. Missing or malformed annotation files,
 * missing or corrupt images (header check), unknown class names, missing or non-numeric fields and
 * bad boxes throw {@link DatasetFormatException} (file, line, field) under {@link
 * ErrorPolicy#FAIL}, or are skipped with a warning under {@link ErrorPolicy#SKIP_WITH_WARNING} (a
 * bad object skips the object, a bad file skips the image).
 */
public final class VocReader {

  /** The 20 Pascal VOC classes in the usual order (labels 1..20). */
  public static final List<String> VOC_CLASSES =
      List.of(
          "aeroplane",
          "bicycle",
          "bird",
          "boat",
          "bottle",
          "bus",
          "car",
          "cat",
          "chair",
          "cow",
          "diningtable",
          "dog",
          "horse",
          "motorbike",
          "person",
          "pottedplant",
          "sheep",
          "sofa",
          "train",
          "tvmonitor");

  private final Path root;
  private final String split;
  private final List<String> classes;
  private final Path classFile;
  private final boolean classesFromAnnotations;
  private final ErrorPolicy errorPolicy;
  private final BoxPolicy boxPolicy;
  private final float boxTolerance;
  private final boolean verifyImages;

  private VocReader(Builder b) {
    this.root = Objects.requireNonNull(b.root, "root must be set");
    this.split = b.split;
    this.classes = b.classes;
    this.classFile = b.classFile;
    this.classesFromAnnotations = b.classesFromAnnotations;
    this.errorPolicy = b.errorPolicy;
    this.boxPolicy = b.boxPolicy;
    this.boxTolerance = b.boxTolerance;
    this.verifyImages = b.verifyImages;
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
   * Reads the split's annotations.
   *
   * @return the annotation set
   * @throws DatasetFormatException on bad data under {@link ErrorPolicy#FAIL}, or when the split
   *     file or class file cannot be read
   */
  public AnnotationSet read() {
    Problems problems = new Problems(errorPolicy, boxPolicy, true);
    Path splitFile = root.resolve("ImageSets").resolve("Main").resolve(split + ".txt");
    List<String> ids = new ArrayList<>();
    for (String line : TextLines.read(splitFile)) {
      // ImageSets/Main/<class>_<split>.txt lines carry a second column; keep the id only.
      ids.add(line.split("\\s+")[0]);
    }
    List<String> classNames = resolveClasses(ids);
    List<ImageAnnotation> images = new ArrayList<>();
    for (String id : ids) {
      try {
        ImageAnnotation image = readImage(id, classNames, problems);
        if (!problems.isImageSkipped(id)) {
          images.add(image);
        }
      } catch (DatasetFormatException e) {
        problems.report(e);
      }
    }
    OutsideBoxCounts outside = problems.outsideBoxCounts();
    return new AnnotationSet(classNames, images, problems.warnings(), null, outside);
  }

  private List<String> resolveClasses(List<String> ids) {
    if (classes != null) {
      return classes;
    }
    if (classFile != null) {
      return AnnotationSet.readClassNames(classFile);
    }
    if (classesFromAnnotations) {
      return collectClasses(ids);
    }
    Path file = root.resolve("classes.txt");
    if (Files.isRegularFile(file)) {
      return AnnotationSet.readClassNames(file);
    }
    return VOC_CLASSES;
  }

  /**
   * The distinct object names of the split's annotation files, sorted. Files that cannot be read
   * are passed over here; reading them reports the problem.
   */
  private List<String> collectClasses(List<String> ids) {
    TreeSet<String> names = new TreeSet<>();
    for (String id : ids) {
      Path xml = root.resolve("Annotations").resolve(id + ".xml");
      try {
        for (Node obj : VocXml.parse(xml).children("object")) {
          Node name = obj.child("name");
          if (name != null && !name.text().isEmpty()) {
            names.add(name.text());
          }
        }
      } catch (DatasetFormatException e) {
        // reported by readImage
      }
    }
    if (names.isEmpty()) {
      throw new DatasetFormatException(
          root.resolve("Annotations"), -1, null, "no object names found in split '" + split + "'");
    }
    return new ArrayList<>(names);
  }

  /** Reads one image's annotation; throws for image-level problems, reports object-level ones. */
  private ImageAnnotation readImage(String id, List<String> classNames, Problems problems) {
    Path xml = root.resolve("Annotations").resolve(id + ".xml");
    if (!Files.isRegularFile(xml)) {
      throw new DatasetFormatException(xml, -1, null, "annotation file does not exist");
    }
    Node doc = VocXml.parse(xml);
    if (!doc.name.equals("annotation")) {
      throw new DatasetFormatException(
          xml, doc.line, doc.name, "root element must be <annotation>");
    }
    Node fileNode = doc.child("filename");
    String fileName = fileNode == null || fileNode.text().isEmpty() ? id + ".jpg" : fileNode.text();
    Path imageFile = root.resolve("JPEGImages").resolve(fileName);
    int width = 0;
    int height = 0;
    Node size = doc.child("size");
    if (size != null) {
      width = (int) number(xml, size, "width", "size/width");
      height = (int) number(xml, size, "height", "size/height");
    }
    if (verifyImages || width <= 0 || height <= 0) {
      int[] wh = ImageFiles.readSize(imageFile);
      if (width > 0 && height > 0 && (wh[0] != width || wh[1] != height)) {
        throw new DatasetFormatException(
            xml,
            size.line,
            "size",
            "annotated size "
                + width
                + "x"
                + height
                + " differs from image "
                + imageFile
                + " of size "
                + wh[0]
                + "x"
                + wh[1]);
      }
      width = wh[0];
      height = wh[1];
    } else if (!Files.isRegularFile(imageFile)) {
      throw new DatasetFormatException(imageFile, -1, null, "image file does not exist");
    }
    List<ObjectAnnotation> objects = new ArrayList<>();
    for (Node obj : doc.children("object")) {
      try {
        ObjectAnnotation o =
            readObject(xml, obj, classNames, new int[] {width, height}, id, problems);
        if (o != null) {
          objects.add(o);
        }
      } catch (DatasetFormatException e) {
        problems.report(e);
      }
    }
    return new ImageAnnotation(id, imageFile, width, height, objects);
  }

  private ObjectAnnotation readObject(
      Path xml, Node obj, List<String> classNames, int[] size, String imageId, Problems problems) {
    Node nameNode = obj.child("name");
    if (nameNode == null || nameNode.text().isEmpty()) {
      throw new DatasetFormatException(xml, obj.line, "object/name", "missing class name");
    }
    int label = classNames.indexOf(nameNode.text()) + 1;
    if (label == 0) {
      throw new DatasetFormatException(
          xml,
          nameNode.line,
          "object/name",
          "unknown class name '"
              + nameNode.text()
              + "' (known: "
              + classNames
              + "; for other classes give a class list or collect them from the annotations)");
    }
    boolean difficult = false;
    Node d = obj.child("difficult");
    if (d != null && !d.text().isEmpty()) {
      difficult = number(xml, obj, "difficult", "object/difficult") != 0;
    }
    Node bb = obj.child("bndbox");
    if (bb == null) {
      throw new DatasetFormatException(xml, obj.line, "object/bndbox", "missing <bndbox>");
    }
    double xmin = number(xml, bb, "xmin", "bndbox/xmin");
    double ymin = number(xml, bb, "ymin", "bndbox/ymin");
    double xmax = number(xml, bb, "xmax", "bndbox/xmax");
    double ymax = number(xml, bb, "ymax", "bndbox/ymax");
    double[] box =
        problems.checkBox(
            new double[] {xmin - 1, ymin - 1, xmax, ymax},
            size[0],
            size[1],
            boxTolerance,
            xml,
            bb.line,
            "bndbox",
            imageId);
    if (box == null) {
      return null;
    }
    return new ObjectAnnotation(label, box[0], box[1], box[2], box[3], difficult, false);
  }

  private static double number(Path xml, Node parent, String child, String field) {
    Node n = parent.child(child);
    if (n == null) {
      throw new DatasetFormatException(xml, parent.line, field, "missing <" + child + ">");
    }
    try {
      return Double.parseDouble(n.text());
    } catch (NumberFormatException e) {
      throw new DatasetFormatException(xml, n.line, field, "not a number: '" + n.text() + "'");
    }
  }

  /** Builder for {@link VocReader}. */
  public static final class Builder extends ReaderOptions<Builder> {
    private Path root;
    private String split = "trainval";
    private List<String> classes;
    private Path classFile;
    private boolean classesFromAnnotations;
    private boolean verifyImages = true;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /**
     * Sets the dataset root (the folder holding {@code JPEGImages}, {@code Annotations} and {@code
     * ImageSets}). Required.
     *
     * @param root the root folder
     * @return this builder
     */
    public Builder setRoot(Path root) {
      this.root = root;
      return this;
    }

    /**
     * Sets the split, the stem of {@code ImageSets/Main/<split>.txt}. Default {@code "trainval"}.
     *
     * @param split the split name
     * @return this builder
     */
    public Builder optSplit(String split) {
      this.split = Objects.requireNonNull(split, "split");
      return this;
    }

    /**
     * Sets the class names; label {@code k} is {@code classes.get(k - 1)}. Default: {@code
     * root/classes.txt} if present, else {@link #VOC_CLASSES}. See also {@link #optClassFile} and
     * {@link #optClassesFromAnnotations}.
     *
     * @param classes the class names
     * @return this builder
     */
    public Builder setClasses(List<String> classes) {
      if (classes.isEmpty()) {
        throw new IllegalArgumentException("classes must not be empty");
      }
      this.classes = List.copyOf(classes);
      return this;
    }

    /**
     * Takes the class names from a file, one per line in label order (see {@link
     * AnnotationSet#readClassNames}). Overrides {@code root/classes.txt}.
     *
     * @param classFile the class list
     * @return this builder
     */
    public Builder optClassFile(Path classFile) {
      this.classFile = Objects.requireNonNull(classFile, "classFile");
      return this;
    }

    /**
     * Collects the class names from the split's annotation files: the distinct {@code object/name}
     * values, sorted, become labels 1..C. Write them next to the model with {@link
     * AnnotationSet#writeClassNames} and read the validation split with that file ({@link
     * #optClassFile}) so that both use the same labels. Overrides {@code root/classes.txt}.
     *
     * @param collect whether to collect the names
     * @return this builder
     */
    public Builder optClassesFromAnnotations(boolean collect) {
      this.classesFromAnnotations = collect;
      return this;
    }

    /**
     * Sets whether every image header is decoded while reading (finds missing and corrupt images
     * early; cheap). Default true. When false only the file's existence is checked.
     *
     * @param verifyImages whether to decode headers
     * @return this builder
     */
    public Builder optVerifyImages(boolean verifyImages) {
      this.verifyImages = verifyImages;
      return this;
    }

    /**
     * Builds the reader.
     *
     * @return the reader
     */
    public VocReader build() {
      return new VocReader(this);
    }
  }
}
