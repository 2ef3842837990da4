package dev.jdetect.train;

/**
 * Thrown by {@link DetectionTrainer} when a loss, or the global norm of the gradients, is NaN or
 * infinite ({@link #getLossName()} is then {@code "gradient_norm"}). The parameters are left as
 * they were before the offending step (no update is applied), the accumulated gradients are zeroed,
 * and the last checkpoint is intact.
 */
public class NonFiniteLossException extends ArithmeticException {

  private static final long serialVersionUID = 1L;

  private final int epoch;
  private final int batch;
  private final String lossName;
  private final float value;

  /**
   * Creates the exception.
   *
   * @param epoch the 0-based epoch
   * @param batch the 0-based batch within the epoch
   * @param lossName the name of the loss that is not finite ({@code "loss"} for the total, {@code
   *     "gradient_norm"} for the gradients)
   * @param value the value
   */
  public NonFiniteLossException(int epoch, int batch, String lossName, float value) {
    this(epoch, batch, lossName, value, null);
  }

  /**
   * Creates the exception with a detail appended to the message.
   *
   * @param epoch the 0-based epoch
   * @param batch the 0-based batch within the epoch
   * @param lossName the name of the loss that is not finite
   * @param value the value
   * @param detail more information (e.g. the first parameter with a non-finite gradient), or {@code
   *     null}
   */
  public NonFiniteLossException(int epoch, int batch, String lossName, float value, String detail) {
    super(
        "loss '"
            + lossName
            + "' is "
            + value
            + " at epoch "
            + epoch
            + ", batch "
            + batch
            + " (0-based)"
            + (detail == null ? "" : "; " + detail)
            + "; training stopped before updating the parameters."
            + " Lower the learning rate, enable gradient clipping, or check the targets.");
    this.epoch = epoch;
    this.batch = batch;
    this.lossName = lossName;
    this.value = value;
  }

  /**
   * Returns the 0-based epoch of the failing step.
   *
   * @return the epoch
   */
  public int getEpoch() {
    return epoch;
  }

  /**
   * Returns the 0-based batch index within the epoch.
   *
   * @return the batch
   */
  public int getBatch() {
    return batch;
  }

  /**
   * Returns the name of the non-finite loss.
   *
   * @return e.g. {@code "loss_box_reg"}
   */
  public String getLossName() {
    return lossName;
  }

  /**
   * Returns the non-finite value.
   *
   * @return NaN or an infinity
   */
  public float getValue() {
    return value;
  }
}
