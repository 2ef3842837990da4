package dev.jdetect.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * COCO reference cases in the form the fixture generators write ({@code images}, {@code
 * annotations}, {@code detections} as in COCO files, plus pycocotools' {@code stats} and {@code
 * classAp}), evaluated by {@link CocoEvaluator} and compared.
 */
final class CocoCases {

  private CocoCases() {}

  /** Reads a JSON fixture from the test class path. */
  static JsonObject read(String resource) throws IOException {
    try (InputStream in = CocoCases.class.getResourceAsStream(resource)) {
      assertNotNull(in, "fixture missing: " + resource);
      return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
          .getAsJsonObject();
    }
  }

  /**
   * Evaluates one case, its images added by id in the file's order (not always ascending), and
   * asserts pycocotools' twelve stats and per-class APs.
   *
   * @param cs the case
   * @param label names the case in messages
   * @param eps the tolerance
   */
  static void assertMatches(JsonObject cs, String label, double eps) {
    int numClasses = cs.get("numClasses").getAsInt();
    Map<Long, GroundTruth.Builder> gts = new LinkedHashMap<>();
    Map<Long, Predictions.Builder> dts = new LinkedHashMap<>();
    for (JsonElement e : cs.getAsJsonArray("images")) {
      long id = e.getAsJsonObject().get("id").getAsLong();
      gts.put(id, GroundTruth.builder());
      dts.put(id, Predictions.builder());
    }
    for (JsonElement e : cs.getAsJsonArray("annotations")) {
      JsonObject a = e.getAsJsonObject();
      double[] b = xyxy(a.getAsJsonArray("bbox"));
      gts.get(a.get("image_id").getAsLong())
          .add(
              a.get("category_id").getAsInt(),
              b[0],
              b[1],
              b[2],
              b[3],
              false,
              a.get("iscrowd").getAsInt() == 1,
              a.get("area").getAsDouble());
    }
    for (JsonElement e : cs.getAsJsonArray("detections")) {
      JsonObject d = e.getAsJsonObject();
      double[] b = xyxy(d.getAsJsonArray("bbox"));
      dts.get(d.get("image_id").getAsLong())
          .add(
              d.get("category_id").getAsInt(),
              d.get("score").getAsDouble(),
              b[0],
              b[1],
              b[2],
              b[3]);
    }
    CocoEvaluator ev = CocoEvaluator.builder().setNumClasses(numClasses).build();
    for (Long id : gts.keySet()) {
      ev.addPredictions(id, dts.get(id).build());
      ev.addGroundTruth(id, gts.get(id).build());
    }
    CocoResult r = ev.evaluate();
    double[] stats = r.getStats();
    JsonArray expected = cs.getAsJsonArray("stats");
    for (int i = 0; i < 12; i++) {
      assertEquals(expected.get(i).getAsDouble(), stats[i], eps, label + " stat " + i);
    }
    JsonArray classAp = cs.getAsJsonArray("classAp");
    for (int k = 0; k < numClasses; k++) {
      assertEquals(classAp.get(k).getAsDouble(), r.getClassAp(k + 1), eps, label + " class " + k);
    }
  }

  /** COCO {@code [x, y, w, h]} to {@code (x, y, x + w, y + h)} in double precision. */
  private static double[] xyxy(JsonArray a) {
    double x = a.get(0).getAsDouble();
    double y = a.get(1).getAsDouble();
    return new double[] {x, y, x + a.get(2).getAsDouble(), y + a.get(3).getAsDouble()};
  }
}
