package dev.jdetect.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jdetect.examples.cli.Cli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training benchmark runs one small step end to end, and the process counters move. */
class TrainBenchmarkTest {

  @Test
  void aSmallStepPrintsEveryPhaseAndFiniteLosses() {
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      code =
          Cli.execute(
              TrainBenchmark.class,
              new PrintWriter(new StringWriter()),
              new PrintWriter(new StringWriter()),
              "--no-reference",
              "--batch",
              "2",
              "--size",
              "64",
              "--warmup",
              "0",
              "--iters",
              "1");
    } finally {
      System.setOut(stdout);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    for (String row :
        new String[] {"forward", "targets", "loss", "backward", "optimizer", "bookkeeping"}) {
      assertTrue(out.contains("  " + row + " (ms)"), row + " missing in\n" + out);
    }
    Matcher m = Pattern.compile("jdetect ([0-9.]+), ([0-9.]+)").matcher(out);
    assertTrue(m.find(), out);
    // one class of two logits: the class loss starts near ln 2; the box term is small but positive
    double cls = Double.parseDouble(m.group(1));
    double box = Double.parseDouble(m.group(2));
    assertTrue(cls > 0.3 && cls < 3, "class loss " + cls);
    assertTrue(box > 0 && box < 1, "box loss " + box);
  }

  @Test
  void processCountersSeeCpuTimeFaultsAndTheResidentSet(@TempDir Path dir) throws IOException {
    assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "Linux /proc");
    ProcessStats.resetPeak();
    ProcessStats start = ProcessStats.now();
    // touch 64 MB of a new file mapping: pages the process has never had, so each first write is
    // a fault and raises the resident set (Java arrays could land in heap pages touched before)
    long sum = 0;
    ProcessStats used;
    try (FileChannel channel =
        FileChannel.open(
            dir.resolve("pages"),
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MappedByteBuffer pages = channel.map(FileChannel.MapMode.READ_WRITE, 0, 64L << 20);
      for (int j = 0; j < pages.capacity(); j += 4096) {
        pages.put(j, (byte) 1);
        sum += pages.get(j);
      }
      used = ProcessStats.now().since(start);
    }
    assertTrue(used.cpuSeconds() >= 0, "cpu " + used.cpuSeconds());
    assertTrue(used.minorFaults() > 0, "minor faults " + used.minorFaults() + " (" + sum + ")");
    assertTrue(used.rssMb() > 0, "rss " + used.rssMb());
    assertTrue(used.peakRssMb() >= used.rssMb() - 1, "peak " + used.peakRssMb());
  }
}
