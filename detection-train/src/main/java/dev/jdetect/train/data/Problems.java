package dev.jdetect.train.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies an {@link ErrorPolicy}: throws, or logs and records a warning. Package-private. */
final class Problems {

  private static final Logger LOGGER = LoggerFactory.getLogger(Problems.class);

  private final ErrorPolicy policy;
  private final List<String> warnings = new ArrayList<>();

  Problems(ErrorPolicy policy) {
    this.policy = policy == null ? ErrorPolicy.FAIL : policy;
  }

  ErrorPolicy policy() {
    return policy;
  }

  List<String> warnings() {
    return warnings;
  }

  /** Returns a reader builder's box tolerance after checking that it is {@code >= 0}. */
  static float checkBoxTolerance(float boxTolerance) {
    if (!(boxTolerance >= 0)) {
      throw new IllegalArgumentException("boxTolerance must be >= 0, got " + boxTolerance);
    }
    return boxTolerance;
  }

  /** Throws {@code e} in FAIL mode, otherwise records it as a warning. */
  void report(DatasetFormatException e) {
    if (policy == ErrorPolicy.FAIL) {
      throw e;
    }
    warnings.add(e.getMessage() + " (skipped)");
    LOGGER.warn("{} (skipped)", e.getMessage());
  }

  /** Records a warning in every mode (used for repairs such as clipping in skip mode). */
  void warn(String message) {
    warnings.add(message);
    LOGGER.warn(message);
  }

  /**
   * Checks a box against its image.
   *
   * <p>Non-finite or degenerate ({@code x2 <= x1} or {@code y2 <= y1}) boxes are problems. A box
   * that sticks out of the image by at most {@code tolerance} pixels is clipped silently; by more
   * it is a problem in FAIL mode, and in skip mode it is clipped with a warning and kept if it
   * still has a positive area.
   *
   * @return the (possibly clipped) box, or {@code null} if the object must be skipped
   */
  float[] checkBox(
      float x1,
      float y1,
      float x2,
      float y2,
      int width,
      int height,
      float tolerance,
      Path file,
      int line,
      String field) {
    if (!Float.isFinite(x1) || !Float.isFinite(y1) || !Float.isFinite(x2) || !Float.isFinite(y2)) {
      report(
          new DatasetFormatException(
              file, line, field, "box has a non-finite coordinate " + box(x1, y1, x2, y2)));
      return null;
    }
    if (!(x2 > x1) || !(y2 > y1)) {
      report(
          new DatasetFormatException(
              file,
              line,
              field,
              "degenerate box " + box(x1, y1, x2, y2) + " (needs x2 > x1 and y2 > y1)"));
      return null;
    }
    if (width > 0 && height > 0) {
      boolean outside =
          x1 < -tolerance || y1 < -tolerance || x2 > width + tolerance || y2 > height + tolerance;
      float cx1 = Math.max(0f, Math.min(x1, width));
      float cy1 = Math.max(0f, Math.min(y1, height));
      float cx2 = Math.max(0f, Math.min(x2, width));
      float cy2 = Math.max(0f, Math.min(y2, height));
      if (outside) {
        String msg =
            "box "
                + box(x1, y1, x2, y2)
                + " lies outside the image of width "
                + width
                + " and height "
                + height;
        if (policy == ErrorPolicy.FAIL) {
          throw new DatasetFormatException(file, line, field, msg);
        }
        if (!(cx2 > cx1) || !(cy2 > cy1)) {
          report(new DatasetFormatException(file, line, field, msg));
          return null;
        }
        warn(new DatasetFormatException(file, line, field, msg + " (clipped)").getMessage());
      }
      return new float[] {cx1, cy1, cx2, cy2};
    }
    return new float[] {x1, y1, x2, y2};
  }

  private static String box(float x1, float y1, float x2, float y2) {
    return "[" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + "]";
  }
}
