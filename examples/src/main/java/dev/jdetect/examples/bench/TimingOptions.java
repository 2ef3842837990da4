package dev.jdetect.examples.bench;

import dev.jdetect.examples.cli.Values;
import picocli.CommandLine.Option;

/** How long a benchmark measures, the same on both sides; each benchmark sets its own defaults. */
final class TimingOptions {

  @Option(
      names = "--warmup",
      paramLabel = "N",
      converter = Values.NonNegative.class,
      description = "Untimed warm-up calls before timing.")
  int warmup;

  @Option(
      names = {"--iters", "--reps"},
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Timed calls; every figure is their median.")
  int iters;

  @Option(
      names = "--threads",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Intra-op threads on both sides.")
  int threads = 2;

  TimingOptions(int warmup, int iters) {
    this.warmup = warmup;
    this.iters = iters;
  }

  /** Sets jdetect's intra-op threads, unless a system property already did; call before DJL. */
  void applyThreads() {
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    }
  }

  /** The peer's arguments for the same timing: {@code --warmup N --iters N --threads N}. */
  java.util.List<String> peerArgs() {
    return java.util.List.of(
        "--warmup",
        Integer.toString(warmup),
        "--iters",
        Integer.toString(iters),
        "--threads",
        Integer.toString(threads));
  }
}
