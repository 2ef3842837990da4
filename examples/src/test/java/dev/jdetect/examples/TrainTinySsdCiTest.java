package dev.jdetect.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.util.JsonUtils;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jdetect.train.ProgressReporter;
import dev.jdetect.train.TrainingHistory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI-sized run of {@link TrainTinySsd}: a small banana set, a small input and a few epochs. It
 * checks that the loss falls and the held-out mAP@0.5 rises clearly above chance (a detector that
 * boxes at random scores close to 0), then runs {@link Detect} on the saved model.
 */
class TrainTinySsdCiTest {

  @Test
  void shortRunLearnsAndSavesAUsableModel(@TempDir Path dir) throws IOException {
    TrainTinySsd.Settings s = new TrainTinySsd.Settings();
    s.out = dir.resolve("run");
    s.images = 240;
    s.valFraction = 0.2;
    s.input = 96;
    s.epochs = 5;
    s.batchSize = 8;
    s.lr = 0.02;
    s.draw = 2;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    s.log = new PrintStream(log, true, StandardCharsets.UTF_8);
    s.progress = ProgressReporter.Mode.LINES;

    TrainTinySsd.Result r = TrainTinySsd.run(s);
    log.toString(StandardCharsets.UTF_8)
        .lines()
        .filter(l -> l.contains(" done ") || l.contains("skipped"))
        .forEach(System.out::println);

    List<TrainingHistory.Epoch> epochs = r.history.getEpochs();
    assertEquals(5, epochs.size());
    double firstLoss = epochs.get(0).getLosses().get("loss");
    double lastLoss = epochs.get(epochs.size() - 1).getLosses().get("loss");
    assertTrue(lastLoss < 0.6 * firstLoss, "loss " + firstLoss + " -> " + lastLoss);
    double firstMap = epochs.get(0).getMetrics().get("mAP@0.5");
    assertTrue(r.map > 0.3, "held-out mAP@0.5 " + r.map + "\n" + log);
    assertTrue(r.map > firstMap, "mAP " + firstMap + " -> " + r.map);

    assertTrue(Files.isRegularFile(s.out.resolve("metrics.csv")));
    assertTrue(Files.isRegularFile(s.out.resolve("metrics.png")));
    assertTrue(Files.isRegularFile(r.modelDir.resolve("model.json")));
    try (Stream<Path> pngs = Files.list(s.out.resolve("predictions"))) {
      assertEquals(2, pngs.count());
    }

    // the saved model directory works with the Detect example
    List<Path> images;
    try (Stream<Path> files = Files.list(s.out.resolve("data").resolve("images"))) {
      images = files.sorted().limit(3).collect(Collectors.toList());
    }
    Path out = dir.resolve("detect");
    Detect.Summary summary = Detect.run(r.modelDir, images, out, 0.2f, 2);
    assertEquals(new Detect.Summary(3, 0, summary.detections()), summary);
    int found = summary.detections();
    assertTrue(found >= 1, "no detection with score >= 0.2 in 3 training images");
    int listed = 0;
    for (Path image : images) {
      // outputs keep the image's extension in their name, so a.jpg and a.png do not collide
      String name = image.getFileName().toString();
      assertTrue(Files.isRegularFile(out.resolve(name + ".png")));
      JsonObject json =
          JsonUtils.GSON.fromJson(Files.readString(out.resolve(name + ".json")), JsonObject.class);
      assertEquals(256, json.get("width").getAsInt());
      for (JsonElement e : json.getAsJsonArray("detections")) {
        JsonObject d = e.getAsJsonObject();
        assertEquals("banana", d.get("class").getAsString());
        assertTrue(d.get("score").getAsDouble() >= 0.2);
        for (JsonElement v : d.getAsJsonArray("box_relative_xywh")) {
          assertTrue(v.getAsDouble() >= 0 && v.getAsDouble() <= 1, d.toString());
        }
        listed++;
      }
    }
    assertEquals(found, listed);
  }
}
