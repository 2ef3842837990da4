package dev.jdetect.models.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the safetensors format (the layout {@code safetensors.torch.save_file} writes): an 8-byte
 * little-endian header length, a JSON header padded with spaces to a multiple of 8 bytes that maps
 * each tensor name to {@code {dtype, shape, data_offsets}} plus an optional {@code __metadata__}
 * map of strings, then the tensors' little-endian bytes in header order.
 *
 * <pre>{@code
 * SafetensorsWriter.write(model, Path.of("model.safetensors"), Map.of("format", "pt"));
 * }</pre>
 *
 * <p>Files written here load in Python with {@code safetensors.torch.load_file}, through DJL's own
 * {@code NDList.decode} and through {@link StateDict#load}.
 */
public final class SafetensorsWriter {

  private SafetensorsWriter() {}

  /**
   * Writes the parameters of an initialised block under their torchvision names ({@link
   * TorchvisionNames}).
   *
   * @param block the initialised block
   * @param file the target file; written to a temporary file beside it, then renamed
   * @param metadata strings stored in the header's {@code __metadata__} (may be empty)
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if a parameter is not initialised
   */
  public static void write(Block block, Path file, Map<String, String> metadata)
      throws IOException {
    write(arrays(block), file, metadata);
  }

  /**
   * Writes named arrays to a file.
   *
   * @param arrays the tensors by name, in the order they are written
   * @param file the target file; written to a temporary file beside it, then renamed
   * @param metadata strings stored in the header's {@code __metadata__} (may be empty)
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if an array has a type safetensors cannot hold
   */
  public static void write(Map<String, NDArray> arrays, Path file, Map<String, String> metadata)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      try (OutputStream os = Files.newOutputStream(tmp)) {
        write(arrays, os, metadata);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Writes named arrays to a stream, which is left open: {@link #size} bytes.
   *
   * @param arrays the tensors by name, in the order they are written
   * @param os the stream
   * @param metadata strings stored in the header's {@code __metadata__} (may be empty)
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if an array has a type safetensors cannot hold
   */
  public static void write(
      Map<String, NDArray> arrays, OutputStream os, Map<String, String> metadata)
      throws IOException {
    byte[] header = header(arrays, metadata);
    WritableByteChannel out = Channels.newChannel(os);
    ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    length.putLong(header.length).flip();
    writeFully(out, length);
    writeFully(out, ByteBuffer.wrap(header));
    for (NDArray array : arrays.values()) {
      // DJL's buffers hold the bytes in native order, little-endian on every platform it runs on
      writeFully(out, array.toByteBuffer());
    }
  }

  /**
   * Returns the number of bytes {@link #write(Map, OutputStream, Map)} writes.
   *
   * @param arrays the tensors by name
   * @param metadata the header's metadata
   * @return the size in bytes
   */
  public static long size(Map<String, NDArray> arrays, Map<String, String> metadata) {
    long size = 8 + header(arrays, metadata).length;
    for (NDArray array : arrays.values()) {
      size += array.getShape().size() * array.getDataType().getNumOfBytes();
    }
    return size;
  }

  /**
   * Returns the parameters of an initialised block under their torchvision names ({@link
   * TorchvisionNames}).
   *
   * @param block the initialised block
   * @return the arrays by name, in the block's order
   * @throws IllegalArgumentException if a parameter is not initialised
   */
  public static Map<String, NDArray> arrays(Block block) {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(block).entrySet()) {
      if (!e.getValue().isInitialized()) {
        throw new IllegalArgumentException(
            "parameter '" + e.getKey() + "' is not initialised; nothing to save");
      }
      arrays.put(e.getKey(), e.getValue().getArray());
    }
    return arrays;
  }

  private static byte[] header(Map<String, NDArray> arrays, Map<String, String> metadata) {
    JsonObject json = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      json.add("__metadata__", meta);
    }
    long offset = 0;
    for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
      NDArray array = e.getValue();
      JsonObject info = new JsonObject();
      info.addProperty("dtype", dtype(array.getDataType(), e.getKey()));
      JsonArray shape = new JsonArray();
      for (long d : array.getShape().getShape()) {
        shape.add(d);
      }
      info.add("shape", shape);
      long size = array.getShape().size() * array.getDataType().getNumOfBytes();
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offsets.add(offset + size);
      info.add("data_offsets", offsets);
      json.add(e.getKey(), info);
      offset += size;
    }
    StringBuilder text = new StringBuilder(json.toString());
    // the data starts 8-byte aligned, as safetensors' own writer pads it
    while (text.toString().getBytes(StandardCharsets.UTF_8).length % 8 != 0) {
      text.append(' ');
    }
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String dtype(DataType type, String name) {
    switch (type) {
      case FLOAT64:
        return "F64";
      case FLOAT32:
        return "F32";
      case FLOAT16:
        return "F16";
      case INT64:
        return "I64";
      case INT32:
        return "I32";
      case INT8:
        return "I8";
      case UINT8:
        return "U8";
      case BOOLEAN:
        return "BOOL";
      default:
        throw new IllegalArgumentException(
            "tensor " + name + ": data type " + type + " cannot be written to safetensors");
    }
  }

  private static void writeFully(WritableByteChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }
}
