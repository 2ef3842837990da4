package dev.jdetect.train.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies an {@link ErrorPolicy} (throws, or logs and records a warning) and a {@link BoxPolicy}
 * (boxes outside their image), counting what was done. Package-private.
 */
final class Problems {

  private static final Logger LOGGER = LoggerFactory.getLogger(Problems.class);

  private final ErrorPolicy policy;
  private final BoxPolicy boxPolicy;
  private final boolean clipWithinTolerance;
  private final List<String> warnings = new ArrayList<>();
  private final Set<String> skippedImages = new HashSet<>();
  private int outside;
  private int clipped;
  private int skippedBoxes;

  Problems(ErrorPolicy policy) {
    this(policy, null, true);
  }

  /**
   * @param policy what to do with bad data
   * @param boxPolicy what to do with boxes outside their image; {@code null} for the default of the
   *     error policy: {@link BoxPolicy#ERROR} under FAIL, {@link BoxPolicy#CLIP} under
   *     SKIP_WITH_WARNING
   * @param clipWithinTolerance whether boxes sticking out by at most the tolerance are clipped
   *     silently (VOC, CSV) rather than kept as written (COCO, whose evaluator uses them as
   *     written)
   */
  Problems(ErrorPolicy policy, BoxPolicy boxPolicy, boolean clipWithinTolerance) {
    this.policy = policy == null ? ErrorPolicy.FAIL : policy;
    this.boxPolicy =
        boxPolicy != null
            ? boxPolicy
            : this.policy == ErrorPolicy.FAIL ? BoxPolicy.ERROR : BoxPolicy.CLIP;
    this.clipWithinTolerance = clipWithinTolerance;
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
   * <p>Non-finite or degenerate ({@code x2 <= x1} or {@code y2 <= y1}) boxes are problems of the
   * error policy. A box that sticks out of the image by at most {@code tolerance} pixels is clipped
   * silently or kept as written (see the constructor); by more, the box policy decides.
   *
   * @param image the key of the box's image, for {@link BoxPolicy#SKIP_IMAGE}
   * @return the (possibly clipped) box, or {@code null} if the object must be skipped
   */
  double[] checkBox(
      double[] xyxy,
      int width,
      int height,
      float tolerance,
      Path file,
      int line,
      String field,
      String image) {
    double x1 = xyxy[0];
    double y1 = xyxy[1];
    double x2 = xyxy[2];
    double y2 = xyxy[3];
    if (!Double.isFinite(x1)
        || !Double.isFinite(y1)
        || !Double.isFinite(x2)
        || !Double.isFinite(y2)) {
      report(
          new DatasetFormatException(
              file, line, field, "box has a non-finite coordinate " + box(xyxy)));
      return null;
    }
    if (!(x2 > x1) || !(y2 > y1)) {
      report(
          new DatasetFormatException(
              file, line, field, "degenerate box " + box(xyxy) + " (needs x2 > x1 and y2 > y1)"));
      return null;
    }
    if (width <= 0 || height <= 0) {
      return xyxy.clone();
    }
    double[] inside = {
      Math.max(0, Math.min(x1, width)),
      Math.max(0, Math.min(y1, height)),
      Math.max(0, Math.min(x2, width)),
      Math.max(0, Math.min(y2, height))
    };
    boolean outsideTolerance =
        x1 < -tolerance || y1 < -tolerance || x2 > width + tolerance || y2 > height + tolerance;
    if (!outsideTolerance) {
      return clipWithinTolerance ? inside : xyxy.clone();
    }
    outside++;
    String msg =
        "box "
            + box(xyxy)
            + " lies outside the image of width "
            + width
            + " and height "
            + height
            + " by more than "
            + tolerance
            + " pixels";
    DatasetFormatException problem = new DatasetFormatException(file, line, field, msg);
    switch (boxPolicy) {
      case CLIP:
        if (inside[2] > inside[0] && inside[3] > inside[1]) {
          clipped++;
          warn(problem.getMessage() + " (clipped)");
          return inside;
        }
        skippedBoxes++;
        warn(problem.getMessage() + " (nothing left after clipping, skipped)");
        return null;
      case SKIP_BOX:
        skippedBoxes++;
        warn(problem.getMessage() + " (box skipped)");
        return null;
      case SKIP_IMAGE:
        skippedImages.add(image);
        warn(problem.getMessage() + " (image skipped)");
        return null;
      default:
        throw new DatasetFormatException(
            file, line, field, msg + " (choose a box policy to clip or skip such boxes)");
    }
  }

  /** Whether {@link BoxPolicy#SKIP_IMAGE} dropped the image with this key. */
  boolean isImageSkipped(String image) {
    return skippedImages.contains(image);
  }

  /** The counts of boxes outside their image; logs their summary when there were any. */
  OutsideBoxCounts outsideBoxCounts() {
    OutsideBoxCounts counts =
        new OutsideBoxCounts(boxPolicy, outside, clipped, skippedBoxes, skippedImages.size());
    if (outside > 0) {
      LOGGER.warn(counts.summary());
    }
    return counts;
  }

  private static String box(double[] b) {
    return "[" + b[0] + ", " + b[1] + ", " + b[2] + ", " + b[3] + "]";
  }
}
