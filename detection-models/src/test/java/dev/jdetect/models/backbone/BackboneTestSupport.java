package dev.jdetect.models.backbone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.WeightImport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Fixture loading and comparison helpers for the backbone and SSD-family tests. */
public final class BackboneTestSupport {

  private BackboneTestSupport() {}

  /**
   * Opens a test resource.
   *
   * @param resource the class-path resource, e.g. {@code /fixtures/backbone/x.npz}
   * @return the stream
   */
  public static InputStream open(String resource) {
    InputStream is = BackboneTestSupport.class.getResourceAsStream(resource);
    assertNotNull(is, "missing test resource " + resource);
    return is;
  }

  /**
   * Loads an npz of named arrays.
   *
   * @param manager the manager owning the arrays
   * @param resource the class-path resource
   * @return the arrays by name
   * @throws IOException if the resource can't be read
   */
  public static Map<String, NDArray> arrays(NDManager manager, String resource) throws IOException {
    Map<String, NDArray> out = new LinkedHashMap<>();
    try (InputStream is = open(resource)) {
      for (NDArray a : NDList.decode(manager, is)) {
        out.put(a.getName(), a);
      }
    }
    return out;
  }

  /**
   * Loads a torchvision state_dict npz into a block strictly, through the weights package.
   *
   * @param manager the manager for the file's arrays
   * @param block the initialised block
   * @param resource the npz resource
   * @param prefix the source prefix to strip ("" for none)
   * @throws IOException if the resource can't be read
   */
  public static void loadWeights(NDManager manager, Block block, String resource, String prefix)
      throws IOException {
    try (NDManager files = manager.newSubManager();
        InputStream is = open(resource)) {
      StateDict sd = StateDict.fromNpz(files, is);
      WeightImport.builder().optStrict(true).optSourcePrefix(prefix).build().apply(block, sd);
    }
  }

  /**
   * Reads a properties resource.
   *
   * @param resource the class-path resource
   * @return the properties
   * @throws IOException if the resource can't be read
   */
  public static Properties properties(String resource) throws IOException {
    Properties p = new Properties();
    try (InputStream is = open(resource)) {
      p.load(is);
    }
    return p;
  }

  /**
   * Reads a "name d0,d1,..." list written by the generator.
   *
   * @param resource the class-path resource
   * @return name to shape string, in file order
   * @throws IOException if the resource can't be read
   */
  public static Map<String, String> names(String resource) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(open(resource), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (!line.isBlank()) {
          String[] parts = line.trim().split(" ");
          out.put(parts[0], parts.length > 1 ? parts[1] : "");
        }
      }
    }
    return out;
  }

  /**
   * Counts a block's parameters as torchvision's {@code parameters()} does: running statistics are
   * buffers there, so they are left out.
   *
   * @param block the initialised block
   * @return the number of scalar parameters
   */
  public static long countParameters(Block block) {
    long n = 0;
    for (Pair<String, Parameter> p : block.getParameters()) {
      Parameter.Type t = p.getValue().getType();
      if (t == Parameter.Type.RUNNING_MEAN || t == Parameter.Type.RUNNING_VAR) {
        continue;
      }
      n += p.getValue().getArray().getShape().size();
    }
    return n;
  }

  /**
   * Asserts two arrays have the same shape and agree element-wise within a tolerance.
   *
   * @param expected the reference
   * @param actual the value under test
   * @param tol the absolute tolerance
   * @param what a label for failure messages
   */
  public static void assertClose(NDArray expected, NDArray actual, float tol, String what) {
    assertArrayEquals(
        expected.getShape().getShape(), actual.getShape().getShape(), what + ": shape");
    float[] e = expected.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
    float[] a = actual.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
    assertEquals(e.length, a.length, what + ": size");
    float worst = 0;
    int at = -1;
    for (int i = 0; i < e.length; i++) {
      assertTrue(Float.isFinite(a[i]), what + ": non-finite value at " + i);
      float d = Math.abs(e[i] - a[i]);
      if (d > worst) {
        worst = d;
        at = i;
      }
    }
    assertTrue(worst <= tol, what + ": max abs diff " + worst + " at " + at + " (tol " + tol + ")");
  }
}
