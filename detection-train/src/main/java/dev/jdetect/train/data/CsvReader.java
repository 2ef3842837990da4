package dev.jdetect.train.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Reads the CSV box format of D2L's banana dataset: one row per box, {@code
 * img_name,label,xmin,ymin,xmax,ymax}, with an optional header row starting with {@code img_name}.
 *
 * <pre>
 * dir/
 *   label.csv
 *   images/&lt;img_name&gt;
 * </pre>
 *
 * <p>Coordinates are continuous pixels {@code (x1, y1, x2, y2)} and are used unchanged (D2L divides
 * them by the image size). The {@code label} column is either a class name from the class list or a
 * 0-based integer index into it (D2L writes {@code 0} for "banana"); either way the label becomes
 * 1..C. Without an explicit class list the classes are inferred: if every label is a non-negative
 * integer, C = max + 1 with names {@code "0", "1", ...}; otherwise the distinct names in sorted
 * order. A row with an empty label and empty coordinates ({@code name.png,,,,,}) lists an image
 * without objects. Images keep the order of their first row; image sizes come from the image
 * headers. Fields are split at every comma (no quoting), and surrounding spaces are ignored.
 *
 * <p><b>Errors.</b> Rows with the wrong number of fields, non-numeric coordinates, unknown labels
 * and bad boxes throw {@link DatasetFormatException} naming file, line and column under {@link
 * ErrorPolicy#FAIL}, or skip the row with a warning; missing or corrupt images throw, or skip the
 * image.
 */
public final class CsvReader {

  private static final String[] COLUMNS = {"img_name", "label", "xmin", "ymin", "xmax", "ymax"};

  private final Path csvFile;
  private final Path imageDir;
  private final List<String> classes;
  private final ErrorPolicy errorPolicy;
  private final BoxPolicy boxPolicy;
  private final float boxTolerance;

  private CsvReader(Builder b) {
    this.csvFile = Objects.requireNonNull(b.csvFile, "csvFile must be set");
    this.imageDir = b.imageDir != null ? b.imageDir : csvFileParent(b.csvFile).resolve("images");
    this.classes = b.classes;
    this.errorPolicy = b.errorPolicy;
    this.boxPolicy = b.boxPolicy;
    this.boxTolerance = b.boxTolerance;
  }

  private static Path csvFileParent(Path f) {
    Path p = f.toAbsolutePath().getParent();
    return p == null ? f.toAbsolutePath() : p;
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
   * Reads the CSV file.
   *
   * @return the annotation set
   * @throws DatasetFormatException if the file cannot be read, or on bad data under {@link
   *     ErrorPolicy#FAIL}
   */
  public AnnotationSet read() {
    Problems problems = new Problems(errorPolicy, boxPolicy, true);
    List<Row> rows = new ArrayList<>();
    if (!Files.isRegularFile(csvFile)) {
      throw new DatasetFormatException(csvFile, -1, null, "CSV file does not exist");
    }
    try (BufferedReader r = Files.newBufferedReader(csvFile, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        String[] f = (lineNo == 1 ? TextLines.stripBom(line) : line).split(",", -1);
        if (lineNo == 1 && f[0].trim().equalsIgnoreCase(COLUMNS[0])) {
          continue;
        }
        try {
          rows.add(parseRow(f, lineNo));
        } catch (DatasetFormatException e) {
          problems.report(e);
        }
      }
    } catch (IOException e) {
      throw new DatasetFormatException(csvFile, -1, null, "cannot read: " + e.getMessage(), e);
    }

    List<String> classNames = classes != null ? classes : inferClasses(rows);
    Map<String, List<ObjectAnnotation>> objects = new LinkedHashMap<>();
    Map<String, int[]> sizes = new LinkedHashMap<>();
    for (Row row : rows) {
      if (!sizes.containsKey(row.image)) {
        try {
          sizes.put(row.image, ImageFiles.readSize(imageDir.resolve(row.image)));
          objects.put(row.image, new ArrayList<>());
        } catch (DatasetFormatException e) {
          sizes.put(row.image, null);
          problems.report(e);
        }
      }
      int[] wh = sizes.get(row.image);
      if (wh == null || row.label == null) {
        continue;
      }
      try {
        int label = resolveLabel(row, classNames);
        double[] box =
            problems.checkBox(
                row.box, wh[0], wh[1], boxTolerance, csvFile, row.line, "xmin..ymax", row.image);
        if (box != null) {
          objects
              .get(row.image)
              .add(new ObjectAnnotation(label, box[0], box[1], box[2], box[3], false, false));
        }
      } catch (DatasetFormatException e) {
        problems.report(e);
      }
    }
    List<ImageAnnotation> images = new ArrayList<>();
    for (Map.Entry<String, List<ObjectAnnotation>> e : objects.entrySet()) {
      if (problems.isImageSkipped(e.getKey())) {
        continue;
      }
      int[] wh = sizes.get(e.getKey());
      images.add(
          new ImageAnnotation(
              e.getKey(), imageDir.resolve(e.getKey()), wh[0], wh[1], e.getValue()));
    }
    OutsideBoxCounts outside = problems.outsideBoxCounts();
    return new AnnotationSet(classNames, images, problems.warnings(), null, outside);
  }

  private Row parseRow(String[] f, int lineNo) {
    if (f.length != COLUMNS.length) {
      throw new DatasetFormatException(
          csvFile,
          lineNo,
          null,
          "expected 6 fields img_name,label,xmin,ymin,xmax,ymax but found " + f.length);
    }
    String image = f[0].trim();
    if (image.isEmpty()) {
      throw new DatasetFormatException(csvFile, lineNo, COLUMNS[0], "empty image name");
    }
    String label = f[1].trim();
    boolean allEmpty = label.isEmpty();
    for (int k = 2; k < 6; k++) {
      allEmpty &= f[k].trim().isEmpty();
    }
    if (allEmpty) {
      return new Row(lineNo, image, null, null);
    }
    if (label.isEmpty()) {
      throw new DatasetFormatException(csvFile, lineNo, COLUMNS[1], "empty label");
    }
    double[] box = new double[4];
    for (int k = 0; k < 4; k++) {
      String v = f[k + 2].trim();
      try {
        box[k] = Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new DatasetFormatException(
            csvFile, lineNo, COLUMNS[k + 2], "not a number: '" + v + "'");
      }
    }
    return new Row(lineNo, image, label, box);
  }

  private int resolveLabel(Row row, List<String> classNames) {
    int i = classNames.indexOf(row.label);
    if (i >= 0) {
      return i + 1;
    }
    if (row.label.matches("\\d+")) {
      long k = Long.parseLong(row.label);
      if (k < classNames.size()) {
        return (int) k + 1;
      }
    }
    throw new DatasetFormatException(
        csvFile,
        row.line,
        COLUMNS[1],
        "unknown class '"
            + row.label
            + "' (known: "
            + classNames
            + " or indices 0.."
            + (classNames.size() - 1)
            + ")");
  }

  private static List<String> inferClasses(List<Row> rows) {
    boolean allInts = true;
    long max = -1;
    TreeSet<String> names = new TreeSet<>();
    for (Row r : rows) {
      if (r.label == null) {
        continue;
      }
      names.add(r.label);
      if (r.label.matches("\\d{1,6}")) {
        max = Math.max(max, Long.parseLong(r.label));
      } else {
        allInts = false;
      }
    }
    List<String> out = new ArrayList<>();
    if (allInts) {
      for (int k = 0; k <= max; k++) {
        out.add(String.valueOf(k));
      }
    } else {
      out.addAll(names);
    }
    if (out.isEmpty()) {
      out.add("object");
    }
    return out;
  }

  private static final class Row {
    final int line;
    final String image;
    final String label;
    final double[] box;

    Row(int line, String image, String label, double[] box) {
      this.line = line;
      this.image = image;
      this.label = label;
      this.box = box;
    }
  }

  /** Builder for {@link CsvReader}. */
  public static final class Builder extends ReaderOptions<Builder> {
    private Path csvFile;
    private Path imageDir;
    private List<String> classes;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /**
     * Sets the CSV file. Required.
     *
     * @param csvFile e.g. {@code bananas_train/label.csv}
     * @return this builder
     */
    public Builder setCsvFile(Path csvFile) {
      this.csvFile = csvFile;
      return this;
    }

    /**
     * Sets the image folder. Default: {@code images} next to the CSV file.
     *
     * @param imageDir the folder
     * @return this builder
     */
    public Builder optImageDir(Path imageDir) {
      this.imageDir = imageDir;
      return this;
    }

    /**
     * Sets the class names (label {@code k} is {@code classes.get(k - 1)}; the CSV may use the name
     * or the 0-based index). Default: inferred, see the class comment.
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
     * Builds the reader.
     *
     * @return the reader
     */
    public CsvReader build() {
      return new CsvReader(this);
    }
  }
}
