package dev.jdetect.models.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the safetensors format: an 8-byte little-endian header length, a UTF-8 JSON header mapping
 * each tensor name to {@code {dtype, shape, data_offsets}} (offsets relative to the end of the
 * header), then the raw little-endian tensor bytes.
 */
final class SafetensorsReader {

  private static final long MAX_HEADER = 100L * 1024 * 1024;

  private SafetensorsReader() {}

  static StateDict read(NDManager manager, Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < 8) {
        throw new IOException(path + ": too short for a safetensors file (" + fileSize + " bytes)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > fileSize) {
        throw new IOException(
            path + ": invalid safetensors header length " + headerLen + " (file " + fileSize + ")");
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
      readFully(ch, headerBuf, 8);
      String json = new String(headerBuf.array(), StandardCharsets.UTF_8);
      JsonObject header;
      try {
        header = JsonParser.parseString(json).getAsJsonObject();
      } catch (JsonParseException | IllegalStateException e) {
        throw new IOException(path + ": safetensors header is not a JSON object", e);
      }
      long dataStart = 8 + headerLen;
      long dataSize = fileSize - dataStart;
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : header.entrySet()) {
        String name = e.getKey();
        if ("__metadata__".equals(name)) {
          continue;
        }
        try {
          JsonObject info = e.getValue().getAsJsonObject();
          String dtype = info.get("dtype").getAsString();
          DataType type = dataType(dtype, name);
          JsonArray dims = info.getAsJsonArray("shape");
          long[] shape = new long[dims.size()];
          long count = 1;
          for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i).getAsLong();
            if (shape[i] < 0) {
              throw new IOException(path + ": tensor " + name + " has negative dimension");
            }
            count *= shape[i];
          }
          JsonArray offsets = info.getAsJsonArray("data_offsets");
          if (offsets == null || offsets.size() != 2) {
            throw new IOException(path + ": tensor " + name + " needs data_offsets [begin, end]");
          }
          long begin = offsets.get(0).getAsLong();
          long end = offsets.get(1).getAsLong();
          long expected = count * type.getNumOfBytes();
          if (begin < 0 || end < begin || end > dataSize || end - begin != expected) {
            throw new IOException(
                path
                    + ": tensor "
                    + name
                    + " has data_offsets ["
                    + begin
                    + ", "
                    + end
                    + "] but "
                    + dtype
                    + " "
                    + new Shape(shape)
                    + " needs "
                    + expected
                    + " bytes within "
                    + dataSize);
          }
          ByteBuffer data =
              ByteBuffer.allocateDirect((int) expected).order(ByteOrder.LITTLE_ENDIAN);
          readFully(ch, data, dataStart + begin);
          data.flip();
          if (type == DataType.BFLOAT16) {
            data = Widening.widen(data, true);
            type = DataType.FLOAT32;
          }
          NDArray array = manager.create(data, new Shape(shape), type);
          array.setName(name);
          arrays.put(name, array);
        } catch (IllegalStateException | UnsupportedOperationException | NullPointerException ex) {
          throw new IOException(path + ": malformed safetensors entry for " + name, ex);
        }
      }
      return StateDict.of(arrays);
    }
  }

  private static DataType dataType(String dtype, String name) throws IOException {
    switch (dtype) {
      case "F64":
        return DataType.FLOAT64;
      case "F32":
        return DataType.FLOAT32;
      case "F16":
        return DataType.FLOAT16;
      case "BF16":
        return DataType.BFLOAT16;
      case "I64":
        return DataType.INT64;
      case "I32":
        return DataType.INT32;
      case "I8":
        return DataType.INT8;
      case "U8":
        return DataType.UINT8;
      case "BOOL":
        return DataType.BOOLEAN;
      default:
        throw new IOException(
            "tensor "
                + name
                + ": unsupported safetensors dtype "
                + dtype
                + " (F64, F32, F16, BF16,"
                + " I64, I32, I8, U8, BOOL are read)");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("unexpected end of safetensors file at byte " + pos);
      }
      pos += n;
    }
  }
}
