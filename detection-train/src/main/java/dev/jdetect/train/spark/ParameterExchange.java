package dev.jdetect.train.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.core.nd.Autograd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.BarrierTaskContext;

/**
 * Exchanges bytes and model parameters among the tasks of a Spark barrier stage through {@link
 * BarrierTaskContext#allGather}: every task sends its message to the driver, which hands all of
 * them to every task. Messages are Base64 text, sent in chunks well under Spark's RPC message
 * limit; the first chunk carries the message's length, so a message of one chunk takes one round (a
 * round costs up to a second in Spark 4: the barrier answers a task that arrived early on a
 * one-second tick). Package-private.
 */
final class ParameterExchange {

  /** Raw bytes per allGather round (Base64 makes them a third larger). */
  static final int CHUNK_BYTES = 16 << 20;

  private final Function<String, String[]> gather;
  private final int rank;
  private final int chunkBytes;

  ParameterExchange(BarrierTaskContext context) {
    this(context::allGather, context.partitionId(), CHUNK_BYTES);
  }

  /**
   * An exchange over any all-gather: {@code gather} sends this task's message and returns every
   * task's, by rank.
   */
  ParameterExchange(Function<String, String[]> gather, int rank, int chunkBytes) {
    this.gather = gather;
    this.rank = rank;
    this.chunkBytes = chunkBytes;
  }

  /** Every task's bytes, by rank (partition id). All tasks must call it together. */
  byte[][] allGather(byte[] mine) {
    byte[][] all = null;
    int longest = 0;
    int from = 0;
    do {
      // a task with fewer bytes sends empty chunks while the longer messages finish
      byte[] part =
          from < mine.length
              ? Arrays.copyOfRange(mine, from, Math.min(mine.length, from + chunkBytes))
              : new byte[0];
      String text = Base64.getEncoder().encodeToString(part);
      String[] parts = gather.apply(from == 0 ? mine.length + ":" + text : text);
      if (all == null) {
        all = new byte[parts.length][];
        for (int i = 0; i < parts.length; i++) {
          int colon = parts[i].indexOf(':');
          all[i] = new byte[Integer.parseInt(parts[i].substring(0, colon))];
          parts[i] = parts[i].substring(colon + 1);
          longest = Math.max(longest, all[i].length);
        }
      }
      for (int i = 0; i < parts.length; i++) {
        byte[] bytes = Base64.getDecoder().decode(parts[i]);
        if (bytes.length > 0) {
          // a finished message's empty chunk lies past its end
          System.arraycopy(bytes, 0, all[i], from, bytes.length);
        }
      }
      from += chunkBytes;
    } while (from < longest);
    return all;
  }

  /** Rank 0's bytes on every task (the other tasks' arguments are not sent). */
  byte[] fromRankZero(byte[] mine) {
    return allGather(rank == 0 ? mine : new byte[0])[0];
  }

  /** Replaces every task's parameters with their mean over the tasks. */
  void average(Block model) {
    byte[][] all = allGather(toBytes(flatten(model)));
    float[] sum = new float[all[0].length / Float.BYTES];
    for (byte[] worker : all) {
      FloatBuffer values = ByteBuffer.wrap(worker).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      if (values.remaining() != sum.length) {
        throw new IllegalStateException(
            "workers hold models of different sizes: "
                + values.remaining()
                + " and "
                + sum.length
                + " parameters");
      }
      for (int i = 0; i < sum.length; i++) {
        sum[i] += values.get(i);
      }
    }
    float n = all.length;
    for (int i = 0; i < sum.length; i++) {
      sum[i] /= n;
    }
    assign(model, sum);
  }

  /** Replaces every task's parameters with rank 0's. */
  void copyFromRankZero(Block model) {
    byte[] bytes = fromRankZero(toBytes(flatten(model)));
    float[] values = new float[bytes.length / Float.BYTES];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    assign(model, values);
  }

  /** The model's initialised float32 parameters, in block order. */
  static List<Pair<String, NDArray>> parameters(Block model) {
    List<Pair<String, NDArray>> out = new ArrayList<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      if (!p.getValue().isInitialized()) {
        continue;
      }
      NDArray a = p.getValue().getArray();
      if (a.getDataType() != DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "parameter '" + p.getKey() + "' is " + a.getDataType() + "; only float32 is exchanged");
      }
      out.add(new Pair<>(p.getKey(), a));
    }
    return out;
  }

  private static float[] flatten(Block model) {
    List<Pair<String, NDArray>> params = parameters(model);
    int total = 0;
    for (Pair<String, NDArray> p : params) {
      total = Math.addExact(total, Math.toIntExact(p.getValue().size()));
    }
    float[] out = new float[total];
    int at = 0;
    for (Pair<String, NDArray> p : params) {
      float[] v = p.getValue().toFloatArray();
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  private static byte[] toBytes(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  private static void assign(Block model, float[] values) {
    int at = 0;
    for (Pair<String, NDArray> p : parameters(model)) {
      int n = Math.toIntExact(p.getValue().size());
      set(p.getValue(), Arrays.copyOfRange(values, at, at + n));
      at += n;
    }
  }

  /**
   * Writes {@code values} into a parameter in place: it keeps its storage and its gradient. Not
   * recorded by autograd (PyTorch refuses in-place writes to recorded leaves), whatever the thread.
   */
  static void set(NDArray parameter, float[] values) {
    try (Autograd.NoGradient noGradient = Autograd.noGradient();
        NDManager scope = parameter.getManager().newSubManager()) {
      parameter.set(new NDIndex("..."), scope.create(values, parameter.getShape()));
    }
  }
}
