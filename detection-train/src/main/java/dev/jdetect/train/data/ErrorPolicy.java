package dev.jdetect.train.data;

/** What a reader does when it meets bad data (see {@link DatasetFormatException}). */
public enum ErrorPolicy {
  /** Throw a {@link DatasetFormatException} at the first problem (the default). */
  FAIL,
  /**
   * Log a warning, record it in {@link AnnotationSet#getWarnings()}, and skip the offending object
   * (unknown class, degenerate box) or image (missing/corrupt image, missing or malformed
   * annotation file). Unless a {@link BoxPolicy} is set, boxes sticking out of their image beyond
   * the tolerance are clipped to it ({@link BoxPolicy#CLIP}) and kept if they still have a positive
   * area; under {@link #FAIL} they are an error ({@link BoxPolicy#ERROR}).
   */
  SKIP_WITH_WARNING
}
