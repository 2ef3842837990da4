package dev.jdetect.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

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
 * <p><b>Classes.</b> Labels are 1..C in the order of the class list: {@link Builder#setClasses} if
 * given, else {@code root/classes.txt} if present, else the 20 standard VOC classes ({@link
 * #VOC_CLASSES}).
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
  private final ErrorPolicy errorPolicy;
  private final float boxTolerance;
  private final boolean verifyImages;

  private VocReader(Builder b) {
    this.root = Objects.requireNonNull(b.root, "root must be set");
    this.split = b.split;
    this.classes = b.classes;
    this.errorPolicy = b.errorPolicy;
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
    Problems problems = new Problems(errorPolicy);
    List<String> classNames = resolveClasses();
    Path splitFile = root.resolve("ImageSets").resolve("Main").resolve(split + ".txt");
    List<String> ids = readLines(splitFile);
    List<ImageAnnotation> images = new ArrayList<>();
    for (String id : ids) {
      try {
        images.add(readImage(id, classNames, problems));
      } catch (DatasetFormatException e) {
        problems.report(e);
      }
    }
    return new AnnotationSet(classNames, images, problems.warnings(), null);
  }

  private List<String> resolveClasses() {
    if (classes != null) {
      return classes;
    }
    Path file = root.resolve("classes.txt");
    if (Files.isRegularFile(file)) {
      List<String> names = readLines(file);
      if (names.isEmpty()) {
        throw new DatasetFormatException(file, -1, null, "class list is empty");
      }
      return names;
    }
    return VOC_CLASSES;
  }

  private static List<String> readLines(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DatasetFormatException(file, -1, null, "file does not exist");
    }
    try {
      List<String> out = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String t = line.trim();
        if (!t.isEmpty()) {
          // ImageSets/Main/<class>_<split>.txt lines carry a second column; keep the id only.
          out.add(t.split("\\s+")[0]);
        }
      }
      return out;
    } catch (IOException e) {
      throw new DatasetFormatException(file, -1, null, "cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads one image's annotation; throws for image-level problems, reports object-level ones. */
  private ImageAnnotation readImage(String id, List<String> classNames, Problems problems) {
    Path xml = root.resolve("Annotations").resolve(id + ".xml");
    if (!Files.isRegularFile(xml)) {
      throw new DatasetFormatException(xml, -1, null, "annotation file does not exist");
    }
    Node doc = parse(xml);
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
        ObjectAnnotation o = readObject(xml, obj, classNames, width, height, problems);
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
      Path xml, Node obj, List<String> classNames, int width, int height, Problems problems) {
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
          "unknown class name '" + nameNode.text() + "' (known: " + classNames + ")");
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
    float xmin = number(xml, bb, "xmin", "bndbox/xmin");
    float ymin = number(xml, bb, "ymin", "bndbox/ymin");
    float xmax = number(xml, bb, "xmax", "bndbox/xmax");
    float ymax = number(xml, bb, "ymax", "bndbox/ymax");
    float[] box =
        problems.checkBox(
            xmin - 1, ymin - 1, xmax, ymax, width, height, boxTolerance, xml, bb.line, "bndbox");
    if (box == null) {
      return null;
    }
    return new ObjectAnnotation(label, box[0], box[1], box[2], box[3], difficult, false);
  }

  private static float number(Path xml, Node parent, String child, String field) {
    Node n = parent.child(child);
    if (n == null) {
      throw new DatasetFormatException(xml, parent.line, field, "missing <" + child + ">");
    }
    try {
      return Float.parseFloat(n.text());
    } catch (NumberFormatException e) {
      throw new DatasetFormatException(xml, n.line, field, "not a number: '" + n.text() + "'");
    }
  }

  private static Node parse(Path xml) {
    try (InputStream in = Files.newInputStream(xml)) {
      SAXParserFactory f = SAXParserFactory.newInstance();
      f.setNamespaceAware(false);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      SAXParser parser = f.newSAXParser();
      TreeHandler h = new TreeHandler();
      parser.parse(in, h);
      if (h.root == null) {
        throw new DatasetFormatException(xml, -1, null, "empty XML document");
      }
      return h.root;
    } catch (SAXParseException e) {
      throw new DatasetFormatException(
          xml, e.getLineNumber(), null, "malformed XML: " + e.getMessage(), e);
    } catch (SAXException | ParserConfigurationException e) {
      throw new DatasetFormatException(xml, -1, null, "malformed XML: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new DatasetFormatException(xml, -1, null, "cannot read: " + e.getMessage(), e);
    }
  }

  /** A minimal element tree with line numbers. */
  private static final class Node {
    final String name;
    final int line;
    final StringBuilder text = new StringBuilder();
    final List<Node> children = new ArrayList<>();

    Node(String name, int line) {
      this.name = name;
      this.line = line;
    }

    String text() {
      return text.toString().trim();
    }

    Node child(String n) {
      for (Node c : children) {
        if (c.name.equals(n)) {
          return c;
        }
      }
      return null;
    }

    List<Node> children(String n) {
      List<Node> out = new ArrayList<>();
      for (Node c : children) {
        if (c.name.equals(n)) {
          out.add(c);
        }
      }
      return out;
    }
  }

  private static final class TreeHandler extends DefaultHandler {
    private Locator locator;
    private final Deque<Node> stack = new ArrayDeque<>();
    Node root;

    @Override
    public void setDocumentLocator(Locator locator) {
      this.locator = locator;
    }

    @Override
    public void startElement(String uri, String localName, String qName, Attributes atts) {
      Node n = new Node(qName, locator == null ? -1 : locator.getLineNumber());
      if (stack.isEmpty()) {
        root = n;
      } else {
        stack.peek().children.add(n);
      }
      stack.push(n);
    }

    @Override
    public void endElement(String uri, String localName, String qName) {
      stack.pop();
    }

    @Override
    public void characters(char[] ch, int start, int length) {
      if (!stack.isEmpty()) {
        stack.peek().text.append(ch, start, length);
      }
    }
  }

  /** Builder for {@link VocReader}. */
  public static final class Builder {
    private Path root;
    private String split = "trainval";
    private List<String> classes;
    private ErrorPolicy errorPolicy = ErrorPolicy.FAIL;
    private float boxTolerance = 1f;
    private boolean verifyImages = true;

    private Builder() {}

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
    public Builder setSplit(String split) {
      this.split = Objects.requireNonNull(split, "split");
      return this;
    }

    /**
     * Sets the class names; label {@code k} is {@code classes.get(k - 1)}. Default: {@code
     * root/classes.txt} if present, else {@link #VOC_CLASSES}.
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
     * Sets what to do with bad data. Default {@link ErrorPolicy#FAIL}.
     *
     * @param errorPolicy the policy
     * @return this builder
     */
    public Builder setErrorPolicy(ErrorPolicy errorPolicy) {
      this.errorPolicy = Objects.requireNonNull(errorPolicy, "errorPolicy");
      return this;
    }

    /**
     * Sets how many pixels a box may stick out of its image before it is an error; boxes within the
     * tolerance are clipped silently. Default 1.
     *
     * @param boxTolerance the tolerance in pixels, {@code >= 0}
     * @return this builder
     */
    public Builder setBoxTolerance(float boxTolerance) {
      this.boxTolerance = Problems.checkBoxTolerance(boxTolerance);
      return this;
    }

    /**
     * Sets whether every image header is decoded while reading (finds missing and corrupt images
     * early; cheap). Default true. When false only the file's existence is checked.
     *
     * @param verifyImages whether to decode headers
     * @return this builder
     */
    public Builder setVerifyImages(boolean verifyImages) {
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
