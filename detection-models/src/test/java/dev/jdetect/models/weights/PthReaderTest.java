package dev.jdetect.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.NDManagerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** torch.save files written by torch 1.13 (src/fixtures/gen_models_pth.py), both layouts. */
@ExtendWith(NDManagerExtension.class)
class PthReaderTest {

  private static Path fixture(String name) throws URISyntaxException {
    return Path.of(PthReaderTest.class.getResource("/fixtures/pth/" + name).toURI());
  }

  @ParameterizedTest
  @ValueSource(strings = {"small_zip.pth", "small_legacy.pth"})
  void readsEveryTensorAsTorchWroteIt(String file, NDManager manager) throws Exception {
    StateDict sd = StateDict.load(manager, fixture(file));
    List<String> lines;
    try (InputStream in = getClass().getResourceAsStream("/fixtures/pth/small_dtypes.txt")) {
      lines = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
    }
    StateDict ref;
    try (InputStream in = getClass().getResourceAsStream("/fixtures/pth/small_ref.npz")) {
      ref = StateDict.fromNpz(manager, in);
    }
    assertEquals(lines.size(), sd.size());
    List<String> order = new ArrayList<>(sd.names());
    for (int i = 0; i < lines.size(); i++) {
      String[] f = lines.get(i).split(" ", -1);
      String name = f[0];
      assertEquals(name, order.get(i), "state_dict order");
      NDArray got = sd.get(name);
      assertEquals(name, got.getName());
      assertEquals(shape(f[2]), got.getShape(), name);
      assertEquals(dataType(f[1]), got.getDataType(), name);
      NDArray want = ref.get(name);
      if (got.getDataType() == DataType.BOOLEAN) {
        assertArrayEquals(want.toBooleanArray(), got.toBooleanArray(), name);
      } else if (got.getDataType() == DataType.INT64) {
        assertArrayEquals(want.toLongArray(), got.toLongArray(), name);
      } else {
        NDArray w = want.toType(DataType.FLOAT64, false);
        NDArray g = got.toType(DataType.FLOAT64, false);
        assertArrayEquals(w.toDoubleArray(), g.toDoubleArray(), 0.0, name);
      }
    }
    // spot values a reader with wrong strides or offsets would get wrong
    assertEquals(7L, sd.get("1.num_batches_tracked").getLong());
    assertArrayEquals(
        new long[] {-3, 0, 5, 1L << 40, 7, -(1L << 33)}, sd.get("extra.long").toLongArray());
  }

  @Test
  void bothLayoutsGiveTheSameTensors(NDManager manager) throws Exception {
    StateDict zip = StateDict.load(manager, fixture("small_zip.pth"));
    StateDict legacy = StateDict.load(manager, fixture("small_legacy.pth"));
    assertEquals(zip.names(), legacy.names());
    for (String name : zip.names()) {
      assertTrue(zip.get(name).contentEquals(legacy.get(name)), name);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"evil.pth", "evil_legacy.pth"})
  void refusesAPickleThatWouldRunCode(String file, NDManager manager) throws Exception {
    Path marker = Path.of("/tmp/jdetect-pwned");
    Files.deleteIfExists(marker);
    UnsafePickleException e =
        assertThrows(UnsafePickleException.class, () -> StateDict.load(manager, fixture(file)));
    assertTrue(
        e.getMessage().contains("posix.system") || e.getMessage().contains("os.system"),
        e.getMessage());
    assertTrue(e.getMessage().contains(file), e.getMessage());
    assertFalse(Files.exists(marker), "the payload ran");
  }

  @Test
  void refusesAPickledModule(NDManager manager) throws Exception {
    UnsafePickleException e =
        assertThrows(
            UnsafePickleException.class, () -> StateDict.load(manager, fixture("module.pth")));
    assertTrue(e.getMessage().contains("torch.nn.modules.linear.Linear"), e.getMessage());
  }

  @Test
  void saysWhatANonStateDictFileHolds(NDManager manager) throws Exception {
    IOException e =
        assertThrows(IOException.class, () -> StateDict.load(manager, fixture("list.pth")));
    assertTrue(e.getMessage().contains("not a state_dict"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"small_zip.pth", "small_legacy.pth"})
  void truncatedFilesFailNamingTheFile(String file, @TempDir Path dir, NDManager manager)
      throws Exception {
    byte[] all = Files.readAllBytes(fixture(file));
    for (int keep : new int[] {all.length / 3, all.length - 7}) {
      Path cut = dir.resolve("cut-" + keep + "-" + file);
      Files.write(cut, java.util.Arrays.copyOf(all, keep));
      IOException e = assertThrows(IOException.class, () -> StateDict.load(manager, cut));
      assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    }
  }

  private static Shape shape(String dims) {
    if (dims.isEmpty()) {
      return new Shape();
    }
    String[] parts = dims.split(",");
    long[] d = new long[parts.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = Long.parseLong(parts[i]);
    }
    return new Shape(d);
  }

  private static DataType dataType(String torch) {
    Map<String, DataType> types =
        Map.of(
            "float32", DataType.FLOAT32,
            "float64", DataType.FLOAT64,
            "float16", DataType.FLOAT16,
            "bfloat16", DataType.FLOAT32, // widened: DJL cannot hold BFLOAT16
            "int64", DataType.INT64,
            "int32", DataType.INT32,
            "uint8", DataType.UINT8,
            "bool", DataType.BOOLEAN);
    return types.get(torch);
  }
}
