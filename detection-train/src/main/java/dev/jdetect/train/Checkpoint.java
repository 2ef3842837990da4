package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.models.weights.SafetensorsWriter;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.train.optim.ResumableOptimizer;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The on-disk form of a {@link DetectionTrainer} checkpoint: one binary file per finished epoch,
 * {@code checkpoint-epoch-NNNN.ckpt} ({@code NNNN} = epochs done), written atomically (temporary
 * file in the same folder, then rename) so a crash leaves the previous checkpoint intact.
 *
 * <p>Layout: a body (big-endian, {@link DataOutputStream}) — magic {@code "JDETECT-CKPT"}, version,
 * the run id, the hash and text of the run's {@link TrainingConfig#describe() settings}, epochs
 * done, global step, the trainer's {@link Random} (Java serialisation, which keeps its exact
 * internal state), the training history as CSV, every model parameter (including batch-norm running
 * statistics) as a safetensors blob under torchvision's names (the bytes of a saved model's {@code
 * model.safetensors}; version 2 files, which stored DJL names and DJL-encoded arrays, are still
 * read), and the optimizer state — followed by a trailer: the body's length, its SHA-256 and the
 * marker {@code "JDCKPEND"}. A truncated or corrupted file is recognised before anything is loaded.
 */
public final class Checkpoint {

  /** The file name of the checkpoint kept for the best validation metric. */
  public static final String BEST_FILE = "checkpoint-best.ckpt";

  private static final String MAGIC = "JDETECT-CKPT";
  private static final int VERSION = 3;

  /** The last version that stored parameters under DJL's names; still read. */
  private static final int DJL_NAMES_VERSION = 2;

  private static final byte[] END = "JDCKPEND".getBytes(StandardCharsets.US_ASCII);
  private static final int TRAILER = 8 + 32 + END.length;
  private static final Pattern NAME = Pattern.compile("checkpoint-epoch-(\\d+)\\.ckpt");

  /**
   * Who wrote a checkpoint and how far it got.
   *
   * @param runId the id of the run that wrote it
   * @param configHash the hash of the run's settings
   * @param configDescription the run's settings as text
   * @param epochsDone the number of finished epochs
   * @param globalStep the number of optimizer steps done
   */
  record Header(
      String runId, String configHash, String configDescription, int epochsDone, long globalStep) {}

  /**
   * A checkpoint read back: its header and the trainer state it restores.
   *
   * @param header the header
   * @param random the trainer's generator
   * @param history the history up to the checkpoint
   */
  record Restored(Header header, Random random, TrainingHistory history) {}

  private Checkpoint() {}

  /**
   * Returns the file name of the checkpoint taken after {@code epochsDone} epochs.
   *
   * @param epochsDone the number of finished epochs
   * @return e.g. {@code checkpoint-epoch-0003.ckpt}
   */
  public static String fileName(int epochsDone) {
    return String.format(Locale.ROOT, "checkpoint-epoch-%04d.ckpt", epochsDone);
  }

  /**
   * Lists the epoch checkpoints of a folder, oldest first (the best-metric copy is not listed).
   *
   * @param dir the folder (may not exist)
   * @return the checkpoint files sorted by epoch
   * @throws IOException if the folder cannot be listed
   */
  public static List<Path> list(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> files = Files.list(dir)) {
      files
          .filter(p -> NAME.matcher(p.getFileName().toString()).matches())
          .sorted((a, b) -> Integer.compare(epochOf(a), epochOf(b)))
          .forEach(out::add);
    }
    return out;
  }

  /**
   * Returns the newest epoch checkpoint of a folder (without checking that it is intact).
   *
   * @param dir the folder
   * @return the file with the most epochs done, or {@code null} if there is none
   * @throws IOException if the folder cannot be listed
   */
  public static Path latest(Path dir) throws IOException {
    List<Path> all = list(dir);
    return all.isEmpty() ? null : all.get(all.size() - 1);
  }

  private static int epochOf(Path p) {
    Matcher m = NAME.matcher(p.getFileName().toString());
    return m.matches() ? Integer.parseInt(m.group(1)) : -1;
  }

  static void write(
      Path file,
      Header header,
      Random random,
      TrainingHistory history,
      Block model,
      ResumableOptimizer optimizer)
      throws IOException {
    AtomicFiles.write(
        file,
        raw -> {
          OutputStream buffered = new BufferedOutputStream(raw);
          MessageDigest sha = sha256();
          long[] length = {0};
          OutputStream counting =
              new FilterOutputStream(new DigestOutputStream(buffered, sha)) {
                @Override
                public void write(int b) throws IOException {
                  out.write(b);
                  length[0]++;
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                  out.write(b, off, len);
                  length[0] += len;
                }
              };
          DataOutputStream out = new DataOutputStream(counting);
          writeBody(out, header, random, history, model, optimizer);
          out.flush();
          DataOutputStream trailer = new DataOutputStream(buffered);
          trailer.writeLong(length[0]);
          trailer.write(sha.digest());
          trailer.write(END);
          trailer.flush();
        });
  }

  private static void writeBody(
      DataOutputStream out,
      Header header,
      Random random,
      TrainingHistory history,
      Block model,
      ResumableOptimizer optimizer)
      throws IOException {
    out.writeUTF(MAGIC);
    out.writeInt(VERSION);
    out.writeUTF(header.runId());
    out.writeUTF(header.configHash());
    writeBytes(out, header.configDescription().getBytes(StandardCharsets.UTF_8));
    out.writeInt(header.epochsDone());
    out.writeLong(header.globalStep());
    ByteArrayOutputStream rng = new ByteArrayOutputStream();
    try (ObjectOutputStream oos = new ObjectOutputStream(rng)) {
      oos.writeObject(random);
    }
    writeBytes(out, rng.toByteArray());
    writeBytes(out, history.toCsv().getBytes(StandardCharsets.UTF_8));
    // the parameters as the saved-model format stores them: safetensors, torchvision's names
    Map<String, NDArray> params = SafetensorsWriter.arrays(model);
    out.writeLong(SafetensorsWriter.size(params, Map.of()));
    SafetensorsWriter.write(params, out, Map.of());
    optimizer.saveState(out);
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  /**
   * Checks that a file is a complete, uncorrupted checkpoint and reads its header.
   *
   * @param file the file
   * @return the header
   * @throws CorruptCheckpointException naming the file and what is wrong with it
   * @throws IOException if the file cannot be read
   */
  static Header verify(Path file) throws IOException {
    long size = Files.size(file);
    Header header;
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      header = readHeader(file, in);
    } catch (EOFException e) {
      throw new CorruptCheckpointException(
          file, "truncated: the file ends inside its header (" + size + " bytes)", e);
    }
    byte[] trailer = new byte[TRAILER];
    long body = size - TRAILER;
    if (body > 0) {
      try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
        raf.seek(body);
        raf.readFully(trailer);
      }
    }
    byte[] end = Arrays.copyOfRange(trailer, TRAILER - END.length, TRAILER);
    if (body <= 0 || !Arrays.equals(end, END)) {
      throw new CorruptCheckpointException(
          file, "truncated: " + size + " bytes and no checksum trailer at the end", null);
    }
    DataInputStream t = new DataInputStream(new ByteArrayInputStream(trailer));
    long stored = t.readLong();
    if (stored != body) {
      throw new CorruptCheckpointException(
          file, "truncated or extended: the body has " + body + " bytes, expected " + stored, null);
    }
    byte[] expected = new byte[32];
    t.readFully(expected);
    MessageDigest sha = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
      byte[] buf = new byte[1 << 16];
      long left = body;
      while (left > 0) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (n < 0) {
          throw new CorruptCheckpointException(file, "truncated while reading", null);
        }
        left -= n;
      }
    }
    if (!MessageDigest.isEqual(expected, sha.digest())) {
      throw new CorruptCheckpointException(
          file, "SHA-256 checksum mismatch: the file is corrupted", null);
    }
    return header;
  }

  /** Reads the header of a checkpoint without verifying the rest of the file. */
  static Header readHeader(Path file) throws IOException {
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      return readHeader(file, in);
    }
  }

  private static Header readHeader(Path file, DataInputStream in) throws IOException {
    String magic;
    try {
      magic = in.readUTF();
    } catch (IOException e) {
      throw new CorruptCheckpointException(file, "not a jdetect checkpoint", e);
    }
    if (!MAGIC.equals(magic)) {
      throw new CorruptCheckpointException(file, "not a jdetect checkpoint", null);
    }
    int version = in.readInt();
    if (version != VERSION && version != DJL_NAMES_VERSION) {
      throw new CorruptCheckpointException(
          file,
          "unsupported checkpoint version " + version + " (this jdetect reads " + VERSION + ")",
          null);
    }
    String runId = in.readUTF();
    String hash = in.readUTF();
    String description = new String(readBytes(in), StandardCharsets.UTF_8);
    return new Header(runId, hash, description, in.readInt(), in.readLong());
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("negative length " + n);
    }
    byte[] bytes = new byte[n];
    in.readFully(bytes);
    return bytes;
  }

  /**
   * Verifies a checkpoint and reads it into a model and an optimizer. The parameter values are
   * copied into the model's existing arrays (so their identity, device and gradient flags stay),
   * the optimizer state is replaced.
   *
   * @param file the checkpoint
   * @param model an initialized model of the same architecture
   * @param optimizer an optimizer of the same algorithm (its manager set)
   * @param manager a manager for temporaries
   * @return the header and trainer state stored with the checkpoint
   * @throws IOException if reading fails
   * @throws CorruptCheckpointException if the file is not an intact checkpoint
   * @throws IllegalArgumentException if names, shapes or data types of parameters do not match
   */
  static Restored read(Path file, Block model, ResumableOptimizer optimizer, NDManager manager)
      throws IOException {
    verify(file);
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      Header header = readHeader(file, in);
      Random random;
      try (ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(readBytes(in)))) {
        random = (Random) ois.readObject();
      } catch (ClassNotFoundException | ClassCastException e) {
        throw new CorruptCheckpointException(file, "corrupt random-generator state", e);
      }
      TrainingHistory history =
          TrainingHistory.fromCsv(new String(readBytes(in), StandardCharsets.UTF_8));
      if (versionOf(file) == DJL_NAMES_VERSION) {
        readParameters(file, in, model, manager);
      } else {
        readSafetensors(file, in, model, manager);
      }
      optimizer.loadState(in);
      return new Restored(header, random, history);
    } catch (EOFException e) {
      throw new CorruptCheckpointException(file, "ends before its content is complete", e);
    }
  }

  private static int versionOf(Path file) throws IOException {
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
      in.readUTF();
      return in.readInt();
    }
  }

  /** Reads the parameter section of the current version: a safetensors blob. */
  private static void readSafetensors(Path file, DataInputStream in, Block model, NDManager manager)
      throws IOException {
    long size = in.readLong();
    if (size < 8 || size > Integer.MAX_VALUE - 8) {
      throw new CorruptCheckpointException(file, "parameter section of " + size + " bytes", null);
    }
    byte[] bytes = new byte[(int) size];
    in.readFully(bytes);
    Map<String, Parameter> params = TorchvisionNames.of(model);
    try (NDManager scope = manager.newSubManager()) {
      NDList arrays = NDList.decode(scope, new ByteArrayInputStream(bytes));
      if (arrays.size() != params.size()) {
        throw new IllegalArgumentException(
            file
                + " holds "
                + arrays.size()
                + " parameters but the model has "
                + params.size()
                + ": not the same architecture");
      }
      for (NDArray value : arrays) {
        Parameter target = params.get(value.getName());
        if (target == null) {
          throw new IllegalArgumentException(
              file + ": parameter '" + value.getName() + "' is not one of the model's");
        }
        copyChecked(file, value.getName(), value, target.getArray());
      }
    }
  }

  private static void copyChecked(Path file, String name, NDArray value, NDArray dest) {
    if (!value.getShape().equals(dest.getShape()) || value.getDataType() != dest.getDataType()) {
      throw new IllegalArgumentException(
          file
              + ": parameter '"
              + name
              + "' is "
              + value.getDataType()
              + value.getShape()
              + " in the checkpoint but "
              + dest.getDataType()
              + dest.getShape()
              + " in the model");
    }
    value.copyTo(dest);
  }

  /** Reads the parameter section of version 2: DJL names and DJL-encoded arrays. */
  private static void readParameters(Path file, DataInputStream in, Block model, NDManager manager)
      throws IOException {
    int count = in.readInt();
    List<Pair<String, Parameter>> params = new ArrayList<>();
    model.getParameters().forEach(params::add);
    if (count != params.size()) {
      throw new IllegalArgumentException(
          file
              + " holds "
              + count
              + " parameters but the model has "
              + params.size()
              + ": not the same architecture");
    }
    Set<String> seen = new HashSet<>();
    try (NDManager scope = manager.newSubManager()) {
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        byte[] bytes = readBytes(in);
        Pair<String, Parameter> target = params.get(i);
        if (!target.getKey().equals(name) || !seen.add(name)) {
          throw new IllegalArgumentException(
              file
                  + ": parameter "
                  + i
                  + " is '"
                  + name
                  + "' but the model's is '"
                  + target.getKey()
                  + "'");
        }
        copyChecked(file, name, scope.decode(bytes), target.getValue().getArray());
      }
    }
  }

  static String sha256Hex(String text) {
    return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
