package dev.jdetect.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The peer protocol end to end with a small peer written on {@code src/bench/peer.py}: arrays go
 * out and come back through the exchange folder, the answer is the JSON line, and failures are
 * reported.
 */
class PythonPeerTest {

  private static final String PEER =
      String.join(
          "\n",
          "import sys",
          "sys.path.insert(0, sys.argv.pop(3))  # after --dir DIR: where peer.py is",
          "import peer",
          "p = peer.parser(__doc__)",
          "p.add_argument('--mode', default='double')",
          "a = p.parse_args()",
          "if a.mode == 'fail':",
          "    sys.exit(3)",
          "print('a line of chatter on stdout')",
          "if a.mode == 'silent':",
          "    sys.exit(0)",
          "x = peer.load(a.dir, 'inputs')",
          "peer.log('read', sorted(x))",
          "peer.save(a.dir, 'outputs', {'twice': x['values'] * 2, 'count': x['values'][:0] + len(x)})",
          "peer.reply({'shape': list(x['values'].shape), 'sum': float(x['values'].sum())})",
          "");

  @Test
  void arraysAndAnswerTravelThroughTheExchangeFolder(@TempDir Path tmp) throws Exception {
    Path bench = Path.of("..", "src", "bench").toAbsolutePath().normalize();
    assumeTrue(Files.isRegularFile(bench.resolve("peer.py")), "run from the examples module");
    Path script = tmp.resolve("fake_peer.py");
    Files.writeString(script, PEER);
    PeerOptions options = new PeerOptions(script.toString());
    Path exchange;
    try (PythonPeer peer = PythonPeer.open(options, null);
        NDManager manager = NDManager.newBaseManager()) {
      assumeTrue(peer.problem() == null, "/usr/bin/python3 with numpy, torch and torchvision");
      exchange = peer.dir();
      NDArray values = manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
      values.setName("values");
      peer.write("inputs", new NDList(values));

      JsonObject answer = peer.call(List.of(bench.toString()));
      assertEquals("[2,3]", answer.get("shape").toString());
      assertEquals(21.0, answer.get("sum").getAsDouble());
      NDList back = peer.read(manager, "outputs");
      NDArray twice = back.get("twice");
      assertEquals(new Shape(2, 3), twice.getShape());
      assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, twice.toFloatArray());

      IOException failed =
          assertThrows(
              IOException.class, () -> peer.call(List.of(bench.toString(), "--mode", "fail")));
      assertTrue(failed.getMessage().endsWith("exited with code 3"), failed.getMessage());
      IOException silent =
          assertThrows(
              IOException.class, () -> peer.call(List.of(bench.toString(), "--mode", "silent")));
      assertTrue(
          silent.getMessage().endsWith("answered no JSON object: a line of chatter on stdout"),
          silent.getMessage());
      IOException missing = assertThrows(IOException.class, () -> peer.read(manager, "nothing"));
      assertTrue(missing.getMessage().startsWith("the peer wrote no "), missing.getMessage());
    }
    assertFalse(Files.exists(exchange), "the temporary exchange folder is deleted");
  }

  @Test
  void aMissingScriptIsReported(@TempDir Path tmp) throws Exception {
    try (PythonPeer peer =
        PythonPeer.open(new PeerOptions(tmp.resolve("none.py").toString()), tmp.resolve("kept"))) {
      assertTrue(peer.problem().startsWith("peer script "), peer.problem());
      assertEquals(tmp.resolve("kept").toAbsolutePath(), peer.dir());
    }
    assertTrue(Files.isDirectory(tmp.resolve("kept")), "a given exchange folder is kept");
  }
}
