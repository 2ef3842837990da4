package dev.jdetect.testkit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Loads the reference {@code .npz} fixtures written by the generators under {@code src/fixtures}.
 * Arrays keep their npz names ({@link NDArray#getName()}).
 */
public final class Fixtures {

  private Fixtures() {}

  /**
   * Reads a classpath {@code .npz} resource into arrays attached to {@code manager}.
   *
   * @param manager the manager that owns the loaded arrays
   * @param resourcePath classpath path, e.g. {@code "/fixtures/box/box_ops.npz"} (a missing leading
   *     slash is added)
   * @return every array of the file, named after its npz entry
   * @throws IllegalStateException if the resource does not exist
   */
  public static NDList load(NDManager manager, String resourcePath) {
    String path = resourcePath.startsWith("/") ? resourcePath : "/" + resourcePath;
    InputStream raw = Fixtures.class.getResourceAsStream(path);
    if (raw == null) {
      throw new IllegalStateException(
          "fixture " + path + " not found on the test classpath; run its src/fixtures generator");
    }
    try (InputStream in = new BufferedInputStream(raw)) {
      return NDList.decode(manager, in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read fixture " + path, e);
    }
  }

  /**
   * Returns the array called {@code name}.
   *
   * @param list arrays from {@link #load(NDManager, String)}
   * @param name the npz entry name without {@code .npy}
   * @return the array
   * @throws IllegalArgumentException if no array has that name (the message lists the names)
   */
  public static NDArray get(NDList list, String name) {
    for (NDArray array : list) {
      if (name.equals(array.getName())) {
        return array;
      }
    }
    StringBuilder names = new StringBuilder();
    for (NDArray array : list) {
      names.append(names.length() == 0 ? "" : ", ").append(array.getName());
    }
    throw new IllegalArgumentException("no fixture array '" + name + "'; have: " + names);
  }
}
