package dev.jdetect.train.data;

/**
 * What a reader did with ground-truth boxes that stick out of their image by more than its
 * tolerance, under its {@link BoxPolicy}.
 *
 * @param policy the policy that was applied
 * @param found boxes found outside their image
 * @param clipped boxes clipped to their image and kept
 * @param skippedBoxes boxes left out ({@link BoxPolicy#SKIP_BOX}, or clipped to nothing)
 * @param skippedImages images left out because of such a box ({@link BoxPolicy#SKIP_IMAGE})
 */
public record OutsideBoxCounts(
    BoxPolicy policy, int found, int clipped, int skippedBoxes, int skippedImages) {

  /**
   * Returns a one-line summary, e.g. {@code "3 boxes outside their image (policy CLIP): 3 clipped,
   * 0 boxes and 0 images skipped"}.
   *
   * @return the summary
   */
  public String summary() {
    return found
        + " boxes outside their image (policy "
        + policy
        + "): "
        + clipped
        + " clipped, "
        + skippedBoxes
        + " boxes and "
        + skippedImages
        + " images skipped";
  }
}
