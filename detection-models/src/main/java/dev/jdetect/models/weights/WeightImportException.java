package dev.jdetect.models.weights;

/**
 * Thrown by a strict {@link WeightImport} when the state dict and the block do not agree; the
 * message lists the missing, unexpected and mis-shaped names, and {@link #report()} holds them.
 * Nothing is copied into the block when this is thrown.
 */
public final class WeightImportException extends IllegalArgumentException {

  private final transient ImportReport report;

  WeightImportException(ImportReport report) {
    super("state dict does not match the block: " + report);
    this.report = report;
  }

  /**
   * Returns the full comparison.
   *
   * @return the report
   */
  public ImportReport report() {
    return report;
  }
}
