package dev.jdetect.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(SafetensorsReaderTest.class.getResource(name).toURI());
  }

  @Test
  void readsEveryDtypeLikeTheNpzReference() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      StateDict st = StateDict.load(m, resource("/fixtures/weights/small.safetensors"));
      StateDict ref;
      try (InputStream is = getClass().getResourceAsStream("/fixtures/weights/small_ref.npz")) {
        ref = StateDict.fromNpz(m, is);
      }
      assertEquals(
          List.of(
              "backbone.features.0.weight",
              "backbone.scale_weight",
              "half",
              "counts",
              "scalar",
              "empty",
              "bytes"),
          List.copyOf(st.names()));
      assertEquals(ref.names(), st.names());
      for (String name : st.names()) {
        NDArray a = st.get(name);
        NDArray b = ref.get(name);
        assertEquals(b.getShape(), a.getShape(), name);
        if (name.equals("half")) {
          assertEquals(DataType.FLOAT16, a.getDataType());
          assertArrayEquals(
              b.toFloatArray(), a.toType(DataType.FLOAT32, false).toFloatArray(), 0f, name);
        } else if (name.equals("counts")) {
          assertEquals(DataType.INT64, a.getDataType());
          assertArrayEquals(b.toLongArray(), a.toLongArray());
          assertEquals(1L << 40, a.toLongArray()[3]);
        } else if (name.equals("bytes")) {
          assertEquals(DataType.UINT8, a.getDataType());
          assertArrayEquals(b.toUint8Array(), a.toUint8Array());
        } else {
          assertEquals(DataType.FLOAT32, a.getDataType(), name);
          assertArrayEquals(b.toFloatArray(), a.toFloatArray(), 0f, name);
        }
      }
      assertEquals(new Shape(), st.get("scalar").getShape());
      assertEquals(2.5f, st.get("scalar").getFloat(), 0f);
      assertEquals(new Shape(0, 4), st.get("empty").getShape());
    }
  }

  private static Path write(Path dir, String header, byte[] data, long declaredLength)
      throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer bb = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    bb.putLong(declaredLength < 0 ? h.length : declaredLength).put(h).put(data);
    Path p = dir.resolve("t.safetensors");
    Files.write(p, bb.array());
    return p;
  }

  /** DJL 0.35.1 aborted the JVM creating the BF16 array; it is read as float32 now. */
  @Test
  void bfloat16IsReadAsFloat32(@TempDir Path dir) throws IOException {
    // 1.0, -2.5 and 3.140625 are exact in bfloat16: 0x3F80, 0xC020, 0x4049
    byte[] data = {(byte) 0x80, 0x3F, 0x20, (byte) 0xC0, 0x49, 0x40};
    Path p =
        write(dir, "{\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]}}", data, -1);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray b = StateDict.fromSafetensors(m, p).get("b");
      assertEquals(DataType.FLOAT32, b.getDataType());
      assertArrayEquals(new float[] {1f, -2.5f, 3.140625f}, b.toFloatArray(), 0f);
    }
  }

  @Test
  void malformedFilesGiveClearErrors(@TempDir Path dir) throws IOException {
    try (NDManager m = NDManager.newBaseManager()) {
      Path ok =
          write(
              dir,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
              new byte[8],
              -1);
      assertEquals(new Shape(2), StateDict.load(m, ok).get("a").getShape());

      Path truncated =
          write(
              dir,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}",
              new byte[8],
              -1);
      IOException e1 = assertThrows(IOException.class, () -> StateDict.load(m, truncated));
      assertTrue(e1.getMessage().contains("tensor a"), e1.getMessage());

      Path badType =
          write(
              dir,
              "{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
              new byte[8],
              -1);
      IOException e2 = assertThrows(IOException.class, () -> StateDict.load(m, badType));
      assertTrue(e2.getMessage().contains("C64"), e2.getMessage());

      Path badLength = write(dir, "{}", new byte[0], 1L << 40);
      IOException e3 = assertThrows(IOException.class, () -> StateDict.load(m, badLength));
      assertTrue(e3.getMessage().contains("header length"), e3.getMessage());

      Path notJson = write(dir, "[1, 2]", new byte[0], -1);
      assertThrows(IOException.class, () -> StateDict.load(m, notJson));

      assertThrows(
          IllegalArgumentException.class, () -> StateDict.load(m, dir.resolve("x.weights")));
    }
  }
}
