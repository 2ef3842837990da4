package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.util.JsonUtils;
import com.google.gson.JsonObject;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.models.inference.ModelCard;
import dev.jdetect.testkit.SmallSavedModel;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Detect} never loses a file: every input gets its own outputs or a reported failure. */
class DetectTest {

  @TempDir static Path shared;
  private static Path model;

  private record Run(int code, String out, String err) {}

  @BeforeAll
  static void saveModel() throws IOException {
    ModelCard card = new ModelCard("generated shapes, 80 images", 3, "VOC mAP@0.5", 0.25, null);
    model =
        SmallSavedModel.save(
            shared.resolve("model"), List.of("circle", "square"), b -> b.optCard(card));
  }

  private static Run detect(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Cli.execute(Detect.class, new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }

  private static void image(Path file, String format) throws IOException {
    Files.createDirectories(file.getParent());
    BufferedImage img = new BufferedImage(80, 60, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 80, 60);
    g.setColor(Color.RED);
    g.fillOval(10, 10, 30, 30);
    g.dispose();
    ImageIO.write(img, format, file.toFile());
  }

  @Test
  void sameStemsAndSubfoldersGetTheirOwnOutputs(@TempDir Path dir) throws IOException {
    Path in = dir.resolve("in");
    image(in.resolve("a.jpg"), "jpg");
    image(in.resolve("a.png"), "png");
    image(in.resolve("sub/a.png"), "png");
    Path out = dir.resolve("out");
    Run run = detect("--model-dir", model.toString(), "--out", out.toString(), in.toString());
    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains("3 images: 3 ok, 0 failed"), run.out());
    for (String name : List.of("a.jpg", "a.png", "sub/a.png")) {
      JsonObject json =
          JsonUtils.GSON.fromJson(Files.readString(out.resolve(name + ".json")), JsonObject.class);
      assertEquals(in.resolve(name).toString(), json.get("image").getAsString());
      assertEquals(80, json.get("width").getAsInt());
      BufferedImage drawn = ImageIO.read(out.resolve(name + ".png").toFile());
      assertEquals(80, drawn.getWidth());
    }
    List<String> lines = Files.readAllLines(out.resolve(Detect.JSON_LINES));
    assertEquals(3, lines.size());
    assertTrue(lines.get(0).startsWith("{\"image\":"), lines.get(0));
  }

  @Test
  void aBadFileIsReportedAndTheOthersGoOn(@TempDir Path dir) throws IOException {
    Path in = dir.resolve("in");
    image(in.resolve("good1.png"), "png");
    Files.createFile(in.resolve("empty.jpg"));
    image(in.resolve("good2.png"), "png");
    Path out = dir.resolve("out");
    Run run =
        detect(
            "--model-dir",
            model.toString(),
            "--out",
            out.toString(),
            "--batch",
            "3",
            in.toString());
    assertEquals(Cli.FAILURE, run.code());
    assertTrue(run.err().contains(in.resolve("empty.jpg").toString()), run.err());
    assertTrue(run.out().contains("3 images: 2 ok, 1 failed"), run.out());
    assertTrue(Files.isRegularFile(out.resolve("good1.png.json")));
    assertTrue(Files.isRegularFile(out.resolve("good2.png.png")));
    assertFalse(Files.exists(out.resolve("empty.jpg.json")));
    List<String> lines = Files.readAllLines(out.resolve(Detect.JSON_LINES));
    assertEquals(3, lines.size());
    assertTrue(lines.stream().anyMatch(l -> l.contains("\"error\"")), lines.toString());
  }

  @Test
  void outputIntoTheInputFolderOnlyWhenAskedAndNeverOverAnInput(@TempDir Path dir)
      throws IOException {
    Path in = dir.resolve("in");
    image(in.resolve("a.png"), "png");
    byte[] original = Files.readAllBytes(in.resolve("a.png"));
    Run run = detect("--model-dir", model.toString(), "--out", in.toString(), in.toString());
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(run.err().contains("--allow-output-in-input"), run.err());
    try (Stream<Path> files = Files.list(in)) {
      assertEquals(1, files.count(), "nothing written");
    }

    run =
        detect(
            "--model-dir",
            model.toString(),
            "--out",
            in.toString(),
            "--allow-output-in-input",
            in.toString());
    assertEquals(0, run.code(), run.err());
    assertArrayEquals(original, Files.readAllBytes(in.resolve("a.png")));
    assertTrue(Files.isRegularFile(in.resolve("a.png.json")));

    // an input named like another input's output is never overwritten
    image(dir.resolve("b.png"), "png");
    Files.copy(dir.resolve("b.png"), dir.resolve("b.png.png"));
    byte[] kept = Files.readAllBytes(dir.resolve("b.png.png"));
    run =
        detect(
            "--model-dir",
            model.toString(),
            "--out",
            dir.toString(),
            dir.resolve("b.png").toString(),
            dir.resolve("b.png.png").toString());
    assertEquals(Cli.FAILURE, run.code());
    assertTrue(run.err().contains("would overwrite an input file"), run.err());
    assertArrayEquals(kept, Files.readAllBytes(dir.resolve("b.png.png")));
  }

  @Test
  void twoThreadsWriteWhatOneThreadWrites(@TempDir Path dir) throws IOException {
    Path in = dir.resolve("in");
    for (int i = 0; i < 5; i++) {
      image(in.resolve("img" + i + ".png"), "png");
    }
    Path one = dir.resolve("one");
    Path two = dir.resolve("two");
    Run run = detect("--model-dir", model.toString(), "--out", one.toString(), in.toString());
    assertEquals(0, run.code(), run.err());
    run =
        detect(
            "--model-dir",
            model.toString(),
            "--out",
            two.toString(),
            "--threads",
            "2",
            "--batch",
            "2",
            in.toString());
    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains("5 images: 5 ok, 0 failed"), run.out());
    for (int i = 0; i < 5; i++) {
      String name = "img" + i + ".png.json";
      assertEquals(Files.readString(one.resolve(name)), Files.readString(two.resolve(name)), name);
    }
    assertEquals(
        Files.readAllLines(one.resolve(Detect.JSON_LINES)).stream().sorted().toList(),
        Files.readAllLines(two.resolve(Detect.JSON_LINES)).stream().sorted().toList());
  }

  @Test
  void batchZeroIsAUsageError() {
    Run run = detect("--model-dir", model.toString(), "--batch", "0", "x.png");
    assertEquals(Cli.USAGE_ERROR, run.code());
    assertTrue(run.err().startsWith("Detect: error: "), run.err());
    assertTrue(run.err().contains("--batch"), run.err());
  }

  @Test
  void infoShowsTheModelCard() {
    Run run = detect("--model-dir", model.toString(), "--info");
    assertEquals(0, run.code(), run.err());
    assertTrue(run.out().contains("architecture: ssd-small"), run.out());
    assertTrue(run.out().contains("classes (2): [circle, square]"), run.out());
    assertTrue(run.out().contains("input size: 64x64"), run.out());
    assertTrue(run.out().contains("training data: generated shapes, 80 images"), run.out());
    assertTrue(run.out().contains("quality: VOC mAP@0.5 = 0.2500"), run.out());
    assertTrue(Files.isRegularFile(model.resolve(ModelCard.FILE_NAME)));
  }

  @Test
  void anOldModelDirectorySaysHowToConvert(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("model.json"), "{\"modelType\": \"ssd-small\", \"classes\": [\"a\"]}");
    Files.writeString(dir.resolve("weights.params"), "");
    Run run = detect("--model-dir", dir.toString(), "--out", dir.resolve("o").toString(), "x.png");
    assertEquals(Cli.FAILURE, run.code());
    assertTrue(run.err().contains("SavedModel.upgrade"), run.err());
  }
}
