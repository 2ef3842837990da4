package dev.jdetect.train;

import java.nio.file.Path;

/**
 * Thrown when a file is not a usable {@link DetectionTrainer} checkpoint: not a checkpoint at all,
 * written by an unsupported version, truncated, or failing its SHA-256 checksum.
 */
public class CorruptCheckpointException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final String reason;

  /**
   * Creates the exception.
   *
   * @param file the checkpoint file
   * @param reason what is wrong with it
   * @param cause the underlying error, or {@code null}
   */
  public CorruptCheckpointException(Path file, String reason, Throwable cause) {
    super(file + ": " + reason, cause);
    this.file = file;
    this.reason = reason;
  }

  /**
   * Returns the checkpoint file.
   *
   * @return the file
   */
  public Path getFile() {
    return file;
  }

  /**
   * Returns what is wrong with the file.
   *
   * @return e.g. {@code "truncated: ..."}
   */
  public String getReason() {
    return reason;
  }
}
