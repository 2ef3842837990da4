package dev.jdetect.models.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UTFDataFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the weights file of the first jdetect model format, {@code weights.params}: a magic string,
 * a version, then every parameter as its DJL name and DJL-encoded array. Only {@link
 * SavedModel#upgrade} reads it; nothing writes it any more.
 */
final class LegacyParameters {

  /** The weights file name of the first format. */
  static final String FILE_NAME = "weights.params";

  private static final String MAGIC = "JDETECT-PARAMS";
  private static final int VERSION = 1;

  private LegacyParameters() {}

  /**
   * Copies a {@code weights.params} file into an initialised block by DJL parameter name.
   *
   * @param block the initialised block
   * @param file the weights file
   * @param manager a manager for temporaries
   * @throws IOException if reading fails
   * @throws IllegalArgumentException if the file is not such a file, or names or shapes do not
   *     match (the message lists them)
   */
  static void load(Block block, Path file, NDManager manager) throws IOException {
    Map<String, Parameter> params = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      params.put(p.getKey(), p.getValue());
    }
    StringBuilder problems = new StringBuilder();
    try (DataInputStream in =
            new DataInputStream(new BufferedInputStream(Files.newInputStream(file)));
        NDManager scope = manager.newSubManager()) {
      String magic;
      try {
        magic = in.readUTF();
      } catch (EOFException | UTFDataFormatException e) {
        magic = "";
      }
      if (!MAGIC.equals(magic)) {
        throw new IllegalArgumentException(file + " is not a jdetect weights file");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IllegalArgumentException(file + ": unsupported weights version " + version);
      }
      int count = in.readInt();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        Parameter target = params.remove(name);
        if (target == null) {
          problems.append("\n  unexpected: ").append(name);
          continue;
        }
        NDArray value = scope.decode(bytes);
        NDArray dest = target.getArray();
        if (!value.getShape().equals(dest.getShape())
            || value.getDataType() != dest.getDataType()) {
          problems
              .append("\n  mis-shaped: ")
              .append(name)
              .append(" file ")
              .append(value.getDataType())
              .append(value.getShape())
              .append(" model ")
              .append(dest.getDataType())
              .append(dest.getShape());
          continue;
        }
        value.copyTo(dest);
      }
    }
    for (String missing : params.keySet()) {
      problems.append("\n  missing: ").append(missing);
    }
    if (problems.length() > 0) {
      throw new IllegalArgumentException(file + " does not fit the model's parameters:" + problems);
    }
  }
}
