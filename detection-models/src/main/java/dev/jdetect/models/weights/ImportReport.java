package dev.jdetect.models.weights;

import java.util.List;

/**
 * What {@link WeightImport} did: which names were copied, which parameters of the block found no
 * tensor ({@code missing}), which tensors found no parameter ({@code unexpected}), and which pairs
 * disagree in shape ({@code misshaped}, not copied). Names are torchvision names.
 */
public final class ImportReport {

  private final List<String> loaded;
  private final List<String> missing;
  private final List<String> unexpected;
  private final List<String> misshaped;

  ImportReport(
      List<String> loaded, List<String> missing, List<String> unexpected, List<String> misshaped) {
    this.loaded = List.copyOf(loaded);
    this.missing = List.copyOf(missing);
    this.unexpected = List.copyOf(unexpected);
    this.misshaped = List.copyOf(misshaped);
  }

  /**
   * Returns the names whose tensor was copied into the block.
   *
   * @return the loaded names, in block order
   */
  public List<String> loaded() {
    return loaded;
  }

  /**
   * Returns the block's parameter names that had no tensor.
   *
   * @return the missing names, in block order
   */
  public List<String> missing() {
    return missing;
  }

  /**
   * Returns the tensor names that match no parameter of the block.
   *
   * @return the unexpected names, in file order
   */
  public List<String> unexpected() {
    return unexpected;
  }

  /**
   * Returns descriptions {@code "name: file (a, b) vs block (c, d)"} of shape mismatches.
   *
   * @return the mis-shaped entries, in block order
   */
  public List<String> misshaped() {
    return misshaped;
  }

  /**
   * Tells whether every parameter was loaded and every tensor used.
   *
   * @return true if nothing is missing, unexpected or mis-shaped
   */
  public boolean isComplete() {
    return missing.isEmpty() && unexpected.isEmpty() && misshaped.isEmpty();
  }

  /** {@inheritDoc} */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append("loaded ").append(loaded.size()).append(" tensors");
    append(sb, "missing in file", missing);
    append(sb, "unexpected in file", unexpected);
    append(sb, "mis-shaped", misshaped);
    return sb.toString();
  }

  private static void append(StringBuilder sb, String title, List<String> names) {
    if (names.isEmpty()) {
      return;
    }
    sb.append("; ").append(names.size()).append(' ').append(title).append(": ");
    int shown = Math.min(names.size(), 20);
    sb.append(String.join(", ", names.subList(0, shown)));
    if (shown < names.size()) {
      sb.append(", ... (").append(names.size() - shown).append(" more)");
    }
  }
}
