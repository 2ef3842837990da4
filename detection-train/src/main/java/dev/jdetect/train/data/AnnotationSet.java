package dev.jdetect.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The result of reading a dataset's annotations: the class names, one {@link ImageAnnotation} per
 * usable image, and the warnings raised in {@link ErrorPolicy#SKIP_WITH_WARNING} mode.
 *
 * <p>Class {@code k} (1-based label) is named {@code getClassNames().get(k - 1)}; label 0 is the
 * background and has no entry.
 */
public final class AnnotationSet {

  private final List<String> classNames;
  private final List<ImageAnnotation> images;
  private final List<String> warnings;
  private final long[] sourceClassIds;
  private final OutsideBoxCounts outsideBoxCounts;

  /**
   * Creates an annotation set.
   *
   * @param classNames class names, index {@code k - 1} for label {@code k}
   * @param images the images
   * @param warnings warnings recorded while reading (may be empty)
   * @param sourceClassIds the dataset's own id for each label (COCO category ids), index {@code k -
   *     1} for label {@code k}; or {@code null} when the labels are the dataset's ids
   */
  public AnnotationSet(
      List<String> classNames,
      List<ImageAnnotation> images,
      List<String> warnings,
      long[] sourceClassIds) {
    this(classNames, images, warnings, sourceClassIds, null);
  }

  /**
   * Creates an annotation set with the counts of boxes found outside their image.
   *
   * @param classNames class names, index {@code k - 1} for label {@code k}
   * @param images the images
   * @param warnings warnings recorded while reading (may be empty)
   * @param sourceClassIds the dataset's own id for each label, or {@code null}
   * @param outsideBoxCounts what the reader did with boxes outside their image, or {@code null} for
   *     none found
   */
  public AnnotationSet(
      List<String> classNames,
      List<ImageAnnotation> images,
      List<String> warnings,
      long[] sourceClassIds,
      OutsideBoxCounts outsideBoxCounts) {
    this.outsideBoxCounts =
        outsideBoxCounts != null
            ? outsideBoxCounts
            : new OutsideBoxCounts(BoxPolicy.ERROR, 0, 0, 0, 0);
    this.classNames = List.copyOf(classNames);
    this.images = List.copyOf(images);
    this.warnings = List.copyOf(warnings);
    if (sourceClassIds != null && sourceClassIds.length != classNames.size()) {
      throw new IllegalArgumentException(
          "sourceClassIds has "
              + sourceClassIds.length
              + " entries but there are "
              + classNames.size()
              + " classes");
    }
    this.sourceClassIds = sourceClassIds == null ? null : sourceClassIds.clone();
  }

  /**
   * Creates an annotation set without warnings or source ids.
   *
   * @param classNames class names
   * @param images the images
   */
  public AnnotationSet(List<String> classNames, List<ImageAnnotation> images) {
    this(classNames, images, List.of(), null);
  }

  /**
   * Returns the class names (label {@code k} is at index {@code k - 1}).
   *
   * @return an unmodifiable list
   */
  public List<String> getClassNames() {
    return classNames;
  }

  /**
   * Returns the number of object classes C (labels are 1..C).
   *
   * @return the class count
   */
  public int getNumClasses() {
    return classNames.size();
  }

  /**
   * Returns the name of a label.
   *
   * @param label a label in 1..C
   * @return the class name
   */
  public String getClassName(int label) {
    if (label < 1 || label > classNames.size()) {
      throw new IllegalArgumentException(
          "label must be in 1.." + classNames.size() + ", got " + label);
    }
    return classNames.get(label - 1);
  }

  /**
   * Returns the label of a class name.
   *
   * @param name the class name
   * @return the label in 1..C, or -1 if unknown
   */
  public int getLabel(String name) {
    int i = classNames.indexOf(Objects.requireNonNull(name, "name"));
    return i < 0 ? -1 : i + 1;
  }

  /**
   * Returns the images.
   *
   * @return an unmodifiable list
   */
  public List<ImageAnnotation> getImages() {
    return images;
  }

  /**
   * Returns the warnings recorded in skip mode.
   *
   * @return an unmodifiable list of messages (same text as the exception would have carried)
   */
  public List<String> getWarnings() {
    return warnings;
  }

  /**
   * Returns the dataset's own id of a label (e.g. the COCO category id).
   *
   * @param label a label in 1..C
   * @return the source id, or {@code label} itself when the dataset has no separate ids
   */
  public long getSourceClassId(int label) {
    getClassName(label);
    return sourceClassIds == null ? label : sourceClassIds[label - 1];
  }

  /**
   * Returns a set with the images in {@code [from, to)} and the same classes.
   *
   * @param from first index, inclusive
   * @param to last index, exclusive
   * @return the subset
   */
  public AnnotationSet subset(int from, int to) {
    if (from < 0 || to > images.size() || from > to) {
      throw new IllegalArgumentException(
          "subset range [" + from + ", " + to + ") is invalid for " + images.size() + " images");
    }
    return new AnnotationSet(
        classNames, images.subList(from, to), warnings, sourceClassIds, outsideBoxCounts);
  }

  /**
   * Returns what the reader did with ground-truth boxes that stick out of their image (see {@link
   * BoxPolicy}).
   *
   * @return the counts (all zero when there were none)
   */
  public OutsideBoxCounts getOutsideBoxCounts() {
    return outsideBoxCounts;
  }

  /**
   * Writes the class names, one per line in label order (UTF-8), e.g. next to a trained model so
   * that its labels can be named; {@link #readClassNames} reads them back.
   *
   * @param file the file to write
   * @throws IOException if writing fails
   */
  public void writeClassNames(Path file) throws IOException {
    Files.write(file, classNames, StandardCharsets.UTF_8);
  }

  /**
   * Reads a class list: one name per line in label order (label 1 first), UTF-8 with or without a
   * byte order mark; blank lines and surrounding spaces are ignored.
   *
   * @param file the file
   * @return the names
   * @throws DatasetFormatException if the file cannot be read, is empty or repeats a name
   */
  public static List<String> readClassNames(Path file) {
    List<String> names = TextLines.read(file);
    if (names.isEmpty()) {
      throw new DatasetFormatException(file, -1, null, "class list is empty");
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < names.size(); i++) {
      if (!seen.add(names.get(i))) {
        throw new DatasetFormatException(
            file, -1, null, "class name '" + names.get(i) + "' is listed twice");
      }
    }
    return names;
  }

  /**
   * Checks that another split (e.g. validation) has the same classes as this one (e.g. training):
   * the same names for the same labels and, where the dataset has its own ids (COCO category ids),
   * the same id for each name. Call it before training: a model trained on one numbering and
   * evaluated on another gives silently wrong numbers.
   *
   * @param other the other split
   * @param thisName what this split is called in the message, e.g. "training"
   * @param otherName what the other split is called, e.g. "validation"
   * @throws IllegalArgumentException listing every difference (renumbered ids, classes present in
   *     only one split, different names)
   */
  public void requireSameClasses(AnnotationSet other, String thisName, String otherName) {
    List<String> diffs = new ArrayList<>();
    Map<String, Long> mine = idsByName();
    Map<String, Long> theirs = other.idsByName();
    for (Map.Entry<String, Long> e : mine.entrySet()) {
      Long id = theirs.get(e.getKey());
      if (id == null) {
        diffs.add("'" + e.getKey() + "' (id " + e.getValue() + ") only in " + thisName);
      } else if (!id.equals(e.getValue())) {
        diffs.add(
            "'"
                + e.getKey()
                + "' has id "
                + e.getValue()
                + " in "
                + thisName
                + " but "
                + id
                + " in "
                + otherName);
      }
    }
    for (Map.Entry<String, Long> e : theirs.entrySet()) {
      if (!mine.containsKey(e.getKey())) {
        diffs.add("'" + e.getKey() + "' (id " + e.getValue() + ") only in " + otherName);
      }
    }
    if (diffs.isEmpty() && !classNames.equals(other.classNames)) {
      diffs.add("labels are in a different order: " + classNames + " vs " + other.classNames);
    }
    if (!diffs.isEmpty()) {
      throw new IllegalArgumentException(
          "the "
              + otherName
              + " classes do not match the "
              + thisName
              + " classes: "
              + String.join("; ", diffs));
    }
  }

  private Map<String, Long> idsByName() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (int k = 1; k <= classNames.size(); k++) {
      out.put(classNames.get(k - 1), getSourceClassId(k));
    }
    return out;
  }
}
