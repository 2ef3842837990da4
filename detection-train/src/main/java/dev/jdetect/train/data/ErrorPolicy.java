package dev.jdetect.train.data;

/** What a reader does when it meets bad data (see {@link DatasetFormatException}). */
public enum ErrorPolicy {
  /** Throw a {@link DatasetFormatException} at the first problem (the default). */
  FAIL,
  /**
   * Log a warning, record it in {@link AnnotationSet#getWarnings()}, and skip the offending object
   * (unknown class, degenerate box) or image (missing/corrupt image, missing or malformed
   * annotation file). Boxes partly outside their image are clipped to it and kept if they still
   * have a positive area.
   */
  SKIP_WITH_WARNING
}
