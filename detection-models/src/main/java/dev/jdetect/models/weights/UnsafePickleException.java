package dev.jdetect.models.weights;

import java.io.IOException;

/**
 * Thrown when a {@code .pth} file's pickle asks for something a state dict never needs — a global
 * such as {@code os.system}, a pickled model class, an unknown opcode. The file is refused before
 * anything it names is run or created.
 */
public class UnsafePickleException extends IOException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was refused, and where in which file
   */
  public UnsafePickleException(String message) {
    super(message);
  }
}
