package dev.jdetect.train.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes the weights file of a model directory: every parameter of a block (batch-norm
 * running statistics included) as its name and DJL-encoded array. Loading copies values into an
 * initialized block's arrays by name and reports missing, unexpected or mis-shaped entries.
 */
public final class ParameterFiles {

  private static final String MAGIC = "JDETECT-PARAMS";
  private static final int VERSION = 1;

  private ParameterFiles() {}

  /**
   * Writes all parameters of an initialized block, atomically.
   *
   * @param block the block
   * @param file the target file
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if a parameter is not initialized
   */
  public static void save(Block block, Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      try (DataOutputStream out =
          new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
        out.writeUTF(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(block.getParameters().size());
        for (Pair<String, Parameter> p : block.getParameters()) {
          if (!p.getValue().isInitialized()) {
            throw new IllegalArgumentException(
                "parameter '" + p.getKey() + "' is not initialized; nothing to save");
          }
          out.writeUTF(p.getKey());
          byte[] bytes = p.getValue().getArray().encode();
          out.writeInt(bytes.length);
          out.write(bytes);
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Loads a weights file into an initialized block: each stored array is copied into the block's
   * parameter of the same name.
   *
   * @param block the initialized block
   * @param file the weights file
   * @param manager a manager for temporaries
   * @throws IOException if reading fails
   * @throws IllegalArgumentException if the file is not a weights file, or names or shapes do not
   *     match (the message lists them)
   */
  public static void load(Block block, Path file, NDManager manager) throws IOException {
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
      } catch (EOFException | java.io.UTFDataFormatException e) {
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
