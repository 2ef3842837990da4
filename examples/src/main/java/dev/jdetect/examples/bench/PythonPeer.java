package dev.jdetect.examples.bench;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a benchmark's torchvision peer ({@code src/bench/*.py}) and exchanges arrays with it, by one
 * protocol for every peer (their side is {@code src/bench/peer.py}):
 *
 * <ul>
 *   <li>both sides share an exchange folder, given to the peer as {@code --dir DIR}; arrays travel
 *       as {@code DIR/<name>.npz} files, each array under its name;
 *   <li>the peer answers with one JSON object, the last line of its standard output;
 *   <li>everything else the peer prints goes to its standard error, which is forwarded to ours line
 *       by line with a {@code [python]} prefix;
 *   <li>exit code 0 means success.
 * </ul>
 *
 * <p>The exchange folder is a new temporary folder, deleted by {@link #close()}, unless a folder to
 * keep is given.
 */
final class PythonPeer implements AutoCloseable {

  private final String python;
  private final Path script;
  private final Path dir;
  private final boolean ownsDir;

  private PythonPeer(String python, Path script, Path dir, boolean ownsDir) {
    this.python = python;
    this.script = script;
    this.dir = dir;
    this.ownsDir = ownsDir;
  }

  /**
   * Opens an exchange folder for a peer.
   *
   * @param options the Python and the script ({@code script} is looked up in {@code .} and {@code
   *     ..} when relative)
   * @param keepDir a folder to use and keep, or {@code null} for a temporary one
   */
  static PythonPeer open(PeerOptions options, Path keepDir) throws IOException {
    Path script = options.script;
    if (!script.isAbsolute() && !Files.isRegularFile(script)) {
      Path up = Path.of("..").resolve(script);
      script = Files.isRegularFile(up) ? up : script;
    }
    if (keepDir != null) {
      Files.createDirectories(keepDir);
      return new PythonPeer(options.python, script, keepDir.toAbsolutePath(), false);
    }
    return new PythonPeer(options.python, script, Files.createTempDirectory("jdetect-peer-"), true);
  }

  /**
   * Returns why the peer cannot run: the script is missing or the Python cannot import torch and
   * torchvision.
   *
   * @return the reason, or {@code null} if the peer can run
   */
  String problem() throws InterruptedException {
    if (!Files.isRegularFile(script)) {
      return "peer script " + script + " not found (run from the repository root or pass --script)";
    }
    try {
      Process p =
          new ProcessBuilder(python, "-c", "import numpy, torch, torchvision")
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return null;
      }
      return python + " cannot import numpy, torch and torchvision";
    } catch (IOException e) {
      return "cannot run " + python + ": " + e.getMessage();
    }
  }

  /** The exchange folder. */
  Path dir() {
    return dir;
  }

  /** The file of the arrays named {@code name}. */
  Path file(String name) {
    return dir.resolve(name + ".npz");
  }

  /** Writes arrays for the peer as {@code <name>.npz}; each array is stored under its name. */
  void write(String name, NDList arrays) throws IOException {
    try (OutputStream os = Files.newOutputStream(file(name))) {
      arrays.encode(os, NDList.Encoding.NPZ);
    }
  }

  /** Reads the arrays the peer wrote as {@code <name>.npz}, each named after its key. */
  NDList read(NDManager manager, String name) throws IOException {
    Path file = file(name);
    if (!Files.isRegularFile(file)) {
      throw new IOException("the peer wrote no " + file);
    }
    try (InputStream is = Files.newInputStream(file)) {
      return NDList.decode(manager, is);
    }
  }

  /**
   * Runs the peer as {@code python script --dir DIR args...} and returns its answer.
   *
   * @param args the peer's own arguments
   * @return the JSON object on the last line of its standard output
   * @throws IOException if the peer cannot start, exits with a non-zero code or answers no JSON
   *     object
   */
  JsonObject call(List<String> args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(python, script.toString(), "--dir"));
    command.add(dir.toString());
    command.addAll(args);
    Process process = new ProcessBuilder(command).start();
    Thread errors = new Thread(() -> forward(process.getErrorStream()), "python-peer-stderr");
    errors.start();
    String last = null;
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (!line.isBlank()) {
          last = line;
        }
      }
    }
    int code = process.waitFor();
    errors.join();
    if (code != 0) {
      throw new IOException(String.join(" ", command) + " exited with code " + code);
    }
    try {
      if (last == null) {
        throw new JsonParseException("empty output");
      }
      return JsonParser.parseString(last).getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new IOException(script + " answered no JSON object: " + last, e);
    }
  }

  private static void forward(InputStream stream) {
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        System.err.println("[python] " + line);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes the exchange folder if it is a temporary one. */
  @Override
  public void close() throws IOException {
    if (!ownsDir) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
