package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code examples/fast-malloc} launcher sets the allocator's variables and runs the command.
 */
class FastMallocTest {

  private static final Path SCRIPT = Path.of("fast-malloc").toAbsolutePath();

  /** What one run of the launcher printed and the variables its command saw. */
  private record Run(int exitCode, String stderr, Map<String, String> env) {}

  private static Run run(Map<String, String> extraEnv, String... command)
      throws IOException, InterruptedException {
    assumeTrue(
        System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"),
        "the launcher changes the allocator on Linux only");
    ProcessBuilder builder =
        new ProcessBuilder(
                concat(List.of("bash", SCRIPT.toString()), command).toArray(new String[0]))
            .redirectErrorStream(false);
    Map<String, String> env = builder.environment();
    env.keySet()
        .removeIf(
            k ->
                k.startsWith("MALLOC_")
                    || k.equals("LD_PRELOAD")
                    || k.equals("THP_MEM_ALLOC_ENABLE"));
    env.remove("JDETECT_MALLOC");
    env.putAll(extraEnv);
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = process.waitFor();
    Map<String, String> seen = new HashMap<>();
    for (String line : out.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        seen.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return new Run(code, err, seen);
  }

  private static List<String> concat(List<String> head, String... tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(List.of(tail));
    return all;
  }

  @Test
  void glibcModeSetsOneArenaNoMmapAndAHighTrimThreshold() throws Exception {
    Run run = run(Map.of("JDETECT_MALLOC", "glibc"), "env");
    assertEquals(0, run.exitCode(), run.stderr());
    assertEquals("1", run.env().get("MALLOC_ARENA_MAX"));
    assertEquals("0", run.env().get("MALLOC_MMAP_MAX_"));
    assertEquals("4294967296", run.env().get("MALLOC_TRIM_THRESHOLD_"));
    assertFalse(run.env().containsKey("LD_PRELOAD"));
    assertFalse(run.env().containsKey("THP_MEM_ALLOC_ENABLE"), "huge pages are opt-in");
    assertFalse(run.stderr().contains("huge pages"), run.stderr());
    assertTrue(run.stderr().startsWith("fast-malloc: glibc"), run.stderr());
  }

  @Test
  void variablesTheUserSetAreKeptAndHugePagesReported() throws Exception {
    Run run =
        run(
            Map.of("JDETECT_MALLOC", "glibc", "MALLOC_ARENA_MAX", "4", "THP_MEM_ALLOC_ENABLE", "1"),
            "env");
    assertEquals("4", run.env().get("MALLOC_ARENA_MAX"));
    assertEquals("0", run.env().get("MALLOC_MMAP_MAX_"));
    assertEquals("1", run.env().get("THP_MEM_ALLOC_ENABLE"));
    assertTrue(
        run.stderr().contains("huge pages for PyTorch's large tensors (THP_MEM_ALLOC_ENABLE=1)"),
        run.stderr());
  }

  @Test
  void offRunsTheCommandUnchangedAndPassesItsExitCode() throws Exception {
    Run run = run(Map.of("JDETECT_MALLOC", "off"), "bash", "-c", "env; exit 7");
    assertEquals(7, run.exitCode());
    assertFalse(run.env().keySet().stream().anyMatch(k -> k.startsWith("MALLOC_")));
    assertFalse(run.env().containsKey("LD_PRELOAD"));
    assertEquals("", run.stderr());
  }

  @Test
  void glibcIsTheDefault() throws Exception {
    Run run = run(Map.of(), "env");
    assertEquals(0, run.exitCode(), run.stderr());
    assertEquals("1", run.env().get("MALLOC_ARENA_MAX"));
    assertEquals("0", run.env().get("MALLOC_MMAP_MAX_"));
    assertFalse(run.env().containsKey("LD_PRELOAD"));
  }

  @Test
  void jemallocModePreloadsTheInstalledLibraryOrRefuses() throws Exception {
    Run run = run(Map.of("JDETECT_MALLOC", "jemalloc"), "env");
    String preload = run.env().get("LD_PRELOAD");
    if (run.exitCode() == 0) {
      assertTrue(preload.endsWith("libjemalloc.so.2"), preload);
      assertTrue(Files.isReadable(Path.of(preload)), preload);
      assertEquals("oversize_threshold:0", run.env().get("MALLOC_CONF"));
      assertTrue(run.stderr().startsWith("fast-malloc: jemalloc"), run.stderr());
    } else {
      assertEquals(2, run.exitCode());
      assertTrue(run.stderr().contains("libjemalloc.so.2 is not installed"), run.stderr());
      assertTrue(run.env().isEmpty(), "the command must not run");
    }
  }

  @Test
  void badModeAndMissingCommandAreUsageErrors() throws Exception {
    Run bad = run(Map.of("JDETECT_MALLOC", "tcmalloc"), "env");
    assertEquals(2, bad.exitCode());
    assertTrue(bad.stderr().contains("must be glibc, jemalloc or off, got 'tcmalloc'"));
    assertTrue(bad.env().isEmpty(), "the command must not run");
    Run none = run(Map.of());
    assertEquals(2, none.exitCode());
    assertTrue(none.stderr().startsWith("usage: fast-malloc COMMAND"), none.stderr());
  }
}
