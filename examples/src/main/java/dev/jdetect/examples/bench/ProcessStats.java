package dev.jdetect.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kernel counts for this process, from {@code /proc/self} (Linux): CPU time, page faults
 * and the peak resident set, which {@link #resetPeak()} restarts so that one step's peak can be
 * read. Elsewhere every figure is {@code NaN}.
 *
 * @param cpuSeconds user + system CPU time of every thread so far
 * @param minorFaults page faults served without I/O (the kernel supplying fresh memory)
 * @param majorFaults page faults that read from disk
 * @param rssMb the resident set now, in MB
 * @param peakRssMb the peak resident set since start or the last {@link #resetPeak()}, in MB
 */
record ProcessStats(
    double cpuSeconds, double minorFaults, double majorFaults, double rssMb, double peakRssMb) {

  private static final Path STAT = Path.of("/proc/self/stat");
  private static final Path STATUS = Path.of("/proc/self/status");
  private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

  /** Clock ticks per second of {@code utime} and {@code stime}: {@code USER_HZ}, 100 on Linux. */
  private static final double TICKS = 100.0;

  /** Reads the counters now. */
  static ProcessStats now() {
    if (!Files.isReadable(STAT)) {
      return new ProcessStats(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    try {
      String stat = Files.readString(STAT);
      // fields after the command name, which is in parentheses and may hold spaces
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // f[0] is field 3 (state): minflt is field 10, majflt 12, utime 14, stime 15
      double minflt = Double.parseDouble(f[7]);
      double majflt = Double.parseDouble(f[9]);
      double cpu = (Double.parseDouble(f[11]) + Double.parseDouble(f[12])) / TICKS;
      return new ProcessStats(cpu, minflt, majflt, status("VmRSS:"), status("VmHWM:"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Restarts the peak resident set at the current one ({@code echo 5 > clear_refs}). */
  static void resetPeak() {
    try {
      if (Files.isWritable(CLEAR_REFS)) {
        Files.writeString(CLEAR_REFS, "5");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The counters accumulated since {@code start}; the resident sets are this reading's. */
  ProcessStats since(ProcessStats start) {
    return new ProcessStats(
        cpuSeconds - start.cpuSeconds,
        minorFaults - start.minorFaults,
        majorFaults - start.majorFaults,
        rssMb,
        peakRssMb);
  }

  /** A size field of {@code /proc/self/status} in MB. */
  private static double status(String field) throws IOException {
    for (String line : Files.readAllLines(STATUS)) {
      if (line.startsWith(field)) {
        String kb = line.substring(field.length()).trim().split("\\s+")[0];
        return Double.parseDouble(kb) / 1024.0;
      }
    }
    return Double.NaN;
  }
}
