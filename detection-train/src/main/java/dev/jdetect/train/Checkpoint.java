package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.train.optim.Optimizer;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
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
 * <p>Layout (big-endian, {@link DataOutputStream}): magic {@code "JDETECT-CKPT"}, version, epochs
 * done, global step, seed, batch size, the trainer's {@link Random} (Java serialisation, which
 * keeps its exact internal state), the training history as CSV, every model parameter (including
 * batch-norm running statistics) as name + DJL-encoded array, and the optimizer state.
 */
public final class Checkpoint {

  private static final String MAGIC = "JDETECT-CKPT";
  private static final int VERSION = 1;
  private static final Pattern NAME = Pattern.compile("checkpoint-epoch-(\\d+)\\.ckpt");

  private final int epochsDone;
  private final long globalStep;
  private final long seed;
  private final int batchSize;
  private final Random random;
  private final TrainingHistory history;

  private Checkpoint(
      int epochsDone,
      long globalStep,
      long seed,
      int batchSize,
      Random random,
      TrainingHistory history) {
    this.epochsDone = epochsDone;
    this.globalStep = globalStep;
    this.seed = seed;
    this.batchSize = batchSize;
    this.random = random;
    this.history = history;
  }

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
   * Lists the checkpoints of a folder, oldest first.
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
   * Returns the newest checkpoint of a folder.
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
      int epochsDone,
      long globalStep,
      long seed,
      int batchSize,
      Random random,
      TrainingHistory history,
      Block model,
      Optimizer optimizer)
      throws IOException {
    AtomicFiles.write(
        file,
        raw -> {
          DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(raw));
          out.writeUTF(MAGIC);
          out.writeInt(VERSION);
          out.writeInt(epochsDone);
          out.writeLong(globalStep);
          out.writeLong(seed);
          out.writeInt(batchSize);
          ByteArrayOutputStream rng = new ByteArrayOutputStream();
          try (ObjectOutputStream oos = new ObjectOutputStream(rng)) {
            oos.writeObject(random);
          }
          out.writeInt(rng.size());
          out.write(rng.toByteArray());
          byte[] csv = history.toCsv().getBytes(java.nio.charset.StandardCharsets.UTF_8);
          out.writeInt(csv.length);
          out.write(csv);
          List<Pair<String, Parameter>> params = new ArrayList<>();
          model.getParameters().forEach(params::add);
          out.writeInt(params.size());
          for (Pair<String, Parameter> p : params) {
            out.writeUTF(p.getKey());
            NDArray array = p.getValue().getArray();
            byte[] bytes = array.encode();
            out.writeInt(bytes.length);
            out.write(bytes);
          }
          optimizer.saveState(out);
          out.flush();
        });
  }

  /**
   * Reads a checkpoint into a model and an optimizer. The parameter values are copied into the
   * model's existing arrays (so their identity, device and gradient flags stay), the optimizer
   * state is replaced.
   *
   * @param file the checkpoint
   * @param model an initialized model of the same architecture
   * @param optimizer an optimizer of the same algorithm (its manager set)
   * @param manager a manager for temporaries
   * @return the trainer state stored with the checkpoint
   * @throws IOException if reading fails
   * @throws IllegalArgumentException if the file is not a checkpoint, or names, shapes or data
   *     types of parameters do not match the model
   */
  static Checkpoint read(Path file, Block model, Optimizer optimizer, NDManager manager)
      throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
        DataInputStream in = new DataInputStream(raw)) {
      String magic;
      try {
        magic = in.readUTF();
      } catch (IOException e) {
        throw new IllegalArgumentException(file + " is not a jdetect checkpoint", e);
      }
      if (!MAGIC.equals(magic)) {
        throw new IllegalArgumentException(file + " is not a jdetect checkpoint");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IllegalArgumentException(
            file + ": unsupported checkpoint version " + version + " (expected " + VERSION + ")");
      }
      int epochsDone = in.readInt();
      long globalStep = in.readLong();
      long seed = in.readLong();
      int batchSize = in.readInt();
      byte[] rng = new byte[in.readInt()];
      in.readFully(rng);
      Random random;
      try (ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(rng))) {
        random = (Random) ois.readObject();
      } catch (ClassNotFoundException | ClassCastException e) {
        throw new IllegalArgumentException(file + ": corrupt random-generator state", e);
      }
      byte[] csv = new byte[in.readInt()];
      in.readFully(csv);
      TrainingHistory history =
          TrainingHistory.fromCsv(new String(csv, java.nio.charset.StandardCharsets.UTF_8));
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
          byte[] bytes = new byte[in.readInt()];
          in.readFully(bytes);
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
          NDArray value = scope.decode(bytes);
          NDArray dest = target.getValue().getArray();
          if (!value.getShape().equals(dest.getShape())
              || value.getDataType() != dest.getDataType()) {
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
      }
      optimizer.loadState(in);
      return new Checkpoint(epochsDone, globalStep, seed, batchSize, random, history);
    }
  }

  int getEpochsDone() {
    return epochsDone;
  }

  long getGlobalStep() {
    return globalStep;
  }

  long getSeed() {
    return seed;
  }

  int getBatchSize() {
    return batchSize;
  }

  Random getRandom() {
    return random;
  }

  TrainingHistory getHistory() {
    return history;
  }
}
