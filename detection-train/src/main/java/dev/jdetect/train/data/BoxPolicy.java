package dev.jdetect.train.data;

import java.util.Locale;

/**
 * What a reader does with a ground-truth box that sticks out of its image by more than the reader's
 * tolerance. Counts of what was done are in {@link AnnotationSet#getOutsideBoxCounts()}.
 */
public enum BoxPolicy {
  /** Stop with a {@link DatasetFormatException} naming the file, line and box. */
  ERROR,
  /** Clip the box to the image; a box with no area left is skipped. */
  CLIP,
  /** Leave the box out; the image keeps its other objects. */
  SKIP_BOX,
  /** Leave out the whole image. */
  SKIP_IMAGE;

  /**
   * Parses a command-line name: {@code error}, {@code clip}, {@code skip-box} or {@code skip-image}
   * (case and {@code -}/{@code _} do not matter).
   *
   * @param name the name
   * @return the policy
   * @throws IllegalArgumentException for any other name, listing the accepted ones
   */
  public static BoxPolicy parse(String name) {
    String n = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (BoxPolicy p : values()) {
      if (p.name().equals(n)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown box policy '" + name + "', expected error, clip, skip-box or skip-image");
  }
}
