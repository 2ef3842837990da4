package dev.jdetect.examples.bench;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How a benchmark finds and runs its torchvision peer; each benchmark sets its own script. */
final class PeerOptions {

  @Option(
      names = "--python",
      paramLabel = "PATH",
      description = "Python with torch and torchvision for the reference.")
  String python = "/usr/bin/python3";

  @Option(
      names = "--script",
      paramLabel = "FILE",
      description = "The torchvision peer script (looked up in . and ..).")
  Path script;

  @Option(names = "--no-reference", description = "Time jdetect only, without torchvision.")
  boolean noReference;

  PeerOptions(String script) {
    this.script = Path.of(script);
  }

  /** Returns whether the torchvision reference runs. */
  boolean reference() {
    return !noReference;
  }
}
