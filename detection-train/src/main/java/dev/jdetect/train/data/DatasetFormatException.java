package dev.jdetect.train.data;

import java.nio.file.Path;

/**
 * Thrown when a dataset file cannot be used: a missing or corrupt image, a missing annotation file,
 * malformed XML, JSON or CSV, an unknown class name, or a box that lies outside its image or is
 * degenerate.
 *
 * <p>It extends {@link IllegalArgumentException} (unchecked) because the cause is always bad input
 * data rather than a transient I/O failure. The message names the file and, where known, the line
 * (1-based) and the field; the same values are available through {@link #getFile()}, {@link
 * #getLine()} and {@link #getField()}.
 *
 * <p>Readers in this package throw it in {@link ErrorPolicy#FAIL} mode; in {@link
 * ErrorPolicy#SKIP_WITH_WARNING} mode they log the same message as a warning, record it in {@link
 * AnnotationSet#getWarnings()}, and skip the offending object or image.
 */
public class DatasetFormatException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final int line;
  private final String field;

  /**
   * Creates an exception.
   *
   * @param file the offending file (may be {@code null} if unknown)
   * @param line the 1-based line number, or -1 if unknown
   * @param field the offending field (e.g. {@code "bndbox/xmin"}, {@code "annotations[3].bbox"}),
   *     or {@code null}
   * @param problem what is wrong
   */
  public DatasetFormatException(Path file, int line, String field, String problem) {
    this(file, line, field, problem, null);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param file the offending file (may be {@code null} if unknown)
   * @param line the 1-based line number, or -1 if unknown
   * @param field the offending field, or {@code null}
   * @param problem what is wrong
   * @param cause the underlying exception, or {@code null}
   */
  public DatasetFormatException(
      Path file, int line, String field, String problem, Throwable cause) {
    super(format(file, line, field, problem), cause);
    this.file = file;
    this.line = line;
    this.field = field;
  }

  private static String format(Path file, int line, String field, String problem) {
    StringBuilder sb = new StringBuilder();
    sb.append(file == null ? "<unknown file>" : file.toString());
    if (line > 0) {
      sb.append(", line ").append(line);
    }
    if (field != null) {
      sb.append(", field '").append(field).append('\'');
    }
    sb.append(": ").append(problem);
    return sb.toString();
  }

  /**
   * Returns the offending file.
   *
   * @return the file, or {@code null} if unknown
   */
  public Path getFile() {
    return file;
  }

  /**
   * Returns the 1-based line number of the problem.
   *
   * @return the line, or -1 if unknown
   */
  public int getLine() {
    return line;
  }

  /**
   * Returns the offending field.
   *
   * @return the field name or JSON path, or {@code null} if not applicable
   */
  public String getField() {
    return field;
  }
}
