package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdetect.examples.bench.CoreBenchmark;
import dev.jdetect.examples.bench.FasterRcnnBenchmark;
import dev.jdetect.examples.bench.FolderBenchmark;
import dev.jdetect.examples.bench.MemorySoak;
import dev.jdetect.examples.bench.SparkBenchmark;
import dev.jdetect.examples.bench.SsdBenchmark;
import dev.jdetect.examples.bench.TrainBenchmark;
import dev.jdetect.examples.cli.Cli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every example and benchmark main answers {@code --help} and bad values the same way. */
class MainsCliTest {

  /** A main, an option of it that takes a count, and what it requires besides. */
  private record Main(Class<?> type, String countOption, String... required) {}

  private static final List<Main> MAINS =
      List.of(
          new Main(TrainTinySsd.class, "--batch"),
          new Main(TrainSsd.class, "--batch"),
          new Main(TrainFasterRcnn.class, "--batch"),
          new Main(SparkTrain.class, "--workers"),
          new Main(SparkDetect.class, "--partitions", "--model-dir", "model", "images"),
          new Main(Detect.class, "--batch", "--model-dir", "model", "image.png"),
          new Main(CustomBackbone.class, "--epochs"),
          new Main(ExplainFasterRcnn.class, "--epochs"),
          new Main(CoreBenchmark.class, "--iters"),
          new Main(SsdBenchmark.class, "--iters"),
          new Main(FasterRcnnBenchmark.class, "--iters"),
          new Main(FolderBenchmark.class, "--iters"),
          new Main(SparkBenchmark.class, "--images"),
          new Main(MemorySoak.class, "--steps"),
          new Main(TrainBenchmark.class, "--iters"));

  /** The output and exit code of one run. */
  private record Run(int code, String out, String err) {}

  private static Run execute(Class<?> type, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cli.execute(type, new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void everyMainPrintsHelpInTheSharedFormat() throws Exception {
    PrintStream stdout = System.out;
    for (Main main : MAINS) {
      String name = main.type().getSimpleName();
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      Method entry = main.type().getMethod("main", String[].class);
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      try {
        // the real main: it returns normally after printing the help
        entry.invoke(null, (Object) new String[] {"--help"});
      } finally {
        System.setOut(stdout);
      }
      String help = captured.toString(StandardCharsets.UTF_8);
      assertTrue(help.startsWith("Usage: " + name + " [OPTIONS]"), name + ":\n" + help);
      List<String> lines = help.lines().toList();
      assertEquals("", lines.get(1), name + ": a blank line after the usage");
      assertFalse(lines.get(2).isBlank(), name + ": a description");
      assertTrue(help.contains("\nOptions:\n"), name + ":\n" + help);
      assertTrue(help.contains("\n  -h, --help  "), name + ":\n" + help);
      assertTrue(
          lines.stream()
              .anyMatch(
                  l ->
                      l.startsWith("      --")
                          && l.contains(main.countOption())
                          && l.contains("=N")),
          name + ":\n" + help);
      assertTrue(help.contains("Default: "), name + ": defaults are shown\n" + help);

      Run run = execute(main.type(), "-h");
      assertEquals(0, run.code(), name);
      assertEquals(help, run.out(), name + ": -h and --help print the same");
      assertEquals("", run.err(), name);
    }
  }

  @Test
  void aBadValueIsOneLineAndTheUsage() {
    for (Main main : MAINS) {
      String name = main.type().getSimpleName();
      Run run = execute(main.type(), main.countOption(), "0");
      assertEquals(Cli.USAGE_ERROR, run.code(), name);
      assertEquals("", run.out(), name);
      List<String> lines = run.err().lines().toList();
      assertEquals(
          List.of(
              name
                  + ": error: Invalid value for option '"
                  + main.countOption()
                  + "': must be >= 1, got 0",
              "Usage: " + lines.get(1).substring("Usage: ".length()),
              "Run '" + name + " --help' for all options."),
          lines,
          name);
      assertTrue(lines.get(1).startsWith("Usage: " + name + " [OPTIONS]"), name);

      run = execute(main.type(), main.countOption(), "many");
      assertEquals(Cli.USAGE_ERROR, run.code(), name);
      assertTrue(
          run.err()
              .startsWith(
                  name
                      + ": error: Invalid value for option '"
                      + main.countOption()
                      + "': 'many' is not an integer\n"),
          run.err());

      List<String> unknown = new java.util.ArrayList<>(List.of(main.required()));
      unknown.add("--no-such-option");
      run = execute(main.type(), unknown.toArray(String[]::new));
      assertEquals(Cli.USAGE_ERROR, run.code(), name);
      assertTrue(run.err().startsWith(name + ": error: Unknown option: '--no-such-option'"), name);
      assertEquals(3, run.err().lines().count(), run.err());
    }
  }

  @Test
  void modelNamesComeFromTheZoo() {
    Run run = execute(TrainSsd.class, "--model", "ssd-large");
    assertEquals(Cli.USAGE_ERROR, run.code());
    String first = run.err().lines().findFirst().orElseThrow();
    assertTrue(
        first.startsWith(
            "TrainSsd: error: Invalid value for option '--model': unknown model 'ssd-large',"
                + " expected one of "),
        first);
    assertTrue(first.contains("faster-rcnn-small, ") && first.contains("ssd-small, "), first);
    assertTrue(execute(TrainFasterRcnn.class, "--help").out().contains("tiny-ssd"));
  }

  @Test
  void checksAcrossOptionsAreUsageErrorsToo() throws IOException {
    Run run = execute(TrainSsd.class, "--coco-train", "train.json");
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(
        run.err().startsWith("TrainSsd: error: --coco-train needs --coco-val as well\n"),
        run.err());

    run = execute(TrainTinySsd.class, "--images", "4", "--val-fraction", "0.1");
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(
        run.err().startsWith("TrainTinySsd: error: --val-fraction 0.1 of 4 images leaves no"),
        run.err());

    run = execute(Detect.class, "--batch", "2");
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(run.err().startsWith("Detect: error: Missing required option"), run.err());

    Path out = Files.createTempDirectory("model-option");
    run =
        execute(
            TrainFasterRcnn.class,
            "--quick",
            "--out",
            out.toString(),
            "--model",
            "fasterrcnn_mobilenet_v3_large_320_fpn",
            "--model-option",
            "scratch=yes");
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(
        run.err()
            .startsWith(
                "TrainFasterRcnn: error: option 'scratch' of model"
                    + " 'fasterrcnn_mobilenet_v3_large_320_fpn' must be true or false: yes\n"),
        run.err());

    run = execute(TrainFasterRcnn.class, "--box-policy", "ignore");
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(run.err().startsWith("TrainFasterRcnn: error: --box-policy: "), run.err());
  }
}
