package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdetect.examples.cli.Cli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training mains resume the same way: {@code --resume} continues from the newest checkpoint in
 * {@code <out>/checkpoints} instead of training the finished epochs again.
 */
class ResumeTest {

  @Test
  void tinySsdResumes(@TempDir Path dir) throws IOException {
    checkResume(
        TrainTinySsd.class, dir.resolve("tiny"), "--images", "30", "--input", "64", "--batch", "8");
  }

  @Test
  void ssdResumes(@TempDir Path dir) throws IOException {
    checkResume(
        TrainSsd.class, dir.resolve("ssd"), "--images", "20", "--input", "64", "--batch", "4");
  }

  private static void checkResume(Class<?> main, Path out, String... settings) throws IOException {
    String first = run(main, out, 1, false, settings);
    assertFalse(first.contains("resumed run"), first);
    List<String> oneEpoch = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals(2, oneEpoch.size(), "header and epoch 1: " + oneEpoch);

    String second = run(main, out, 2, true, settings);
    assertTrue(second.contains("resumed run "), second);
    assertTrue(second.contains(" from " + out.resolve("checkpoints")), second);
    assertTrue(second.contains("(epoch 1 done"), second);
    List<String> twoEpochs = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals(3, twoEpochs.size(), "header and epochs 1, 2: " + twoEpochs);
    assertEquals(oneEpoch.get(1), twoEpochs.get(1), "epoch 1 is kept from the first run");
    assertTrue(Files.isRegularFile(out.resolve("model").resolve("model.json")));
  }

  /** Runs a main through its command line and returns what it printed. */
  private static String run(
      Class<?> main, Path out, int epochs, boolean resume, String... settings) {
    List<String> args = new ArrayList<>(List.of(settings));
    args.addAll(List.of("--out", out.toString(), "--epochs", Integer.toString(epochs)));
    if (resume) {
      args.add("--resume");
    }
    PrintStream stdout = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    int code;
    try {
      code =
          Cli.execute(
              main, new PrintWriter(System.out), new PrintWriter(err), args.toArray(String[]::new));
    } finally {
      System.setOut(stdout);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, log + err);
    return log;
  }
}
