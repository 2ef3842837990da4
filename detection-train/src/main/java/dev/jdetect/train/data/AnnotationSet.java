package dev.jdetect.train.data;

import java.util.List;
import java.util.Objects;

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
    return new AnnotationSet(classNames, images.subList(from, to), warnings, sourceClassIds);
  }
}
