package dev.jdetect.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Compares the evaluators with pycocotools' COCOeval and the devkit's voc_eval on the cases of
 * {@code src/fixtures/gen_eval_reference.py}: image ids out of order with score ties across images,
 * areas within 1e-4 of the size-range bounds, IoUs just below a threshold in double precision,
 * crowd regions, more than 100 detections in an image, difficult objects and a class without ground
 * truth.
 */
class EvalReferenceTest {

  private static final double EPS = 1e-12;

  private static JsonObject fixture(String name) throws Exception {
    try (InputStream in = EvalReferenceTest.class.getResourceAsStream(name)) {
      assertNotNull(in, "fixture missing: " + name);
      return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
          .getAsJsonObject();
    }
  }

  @Test
  void cocoMatchesPycocotools() throws Exception {
    JsonArray cases = fixture("/fixtures/eval_reference/coco_cases.json").getAsJsonArray("cases");
    assertEquals(5, cases.size());
    for (JsonElement ce : cases) {
      JsonObject cs = ce.getAsJsonObject();
      CocoCases.assertMatches(cs, cs.get("name").getAsString(), EPS);
    }
  }

  @Test
  void vocMatchesVocEval() throws Exception {
    JsonArray cases = fixture("/fixtures/eval_reference/voc_cases.json").getAsJsonArray("cases");
    assertEquals(2, cases.size());
    for (JsonElement ce : cases) {
      JsonObject cs = ce.getAsJsonObject();
      for (String metric : List.of("area", "07")) {
        boolean use07 = metric.equals("07");
        VocEvaluator byDefault =
            VocEvaluator.builder().setNumClasses(numClasses(cs)).setUse07Metric(use07).build();
        VocEvaluator allClasses =
            VocEvaluator.builder()
                .setNumClasses(numClasses(cs))
                .setUse07Metric(use07)
                .optMeanOverAllClasses(true)
                .build();
        addVoc(cs, byDefault);
        addVoc(cs, allClasses);
        VocResult r = byDefault.evaluate();
        JsonArray ap = cs.getAsJsonArray("ap_" + metric);
        for (int c = 0; c < ap.size(); c++) {
          if (ap.get(c).isJsonNull()) {
            assertTrue(Double.isNaN(r.getAp(c + 1)));
          } else {
            assertEquals(ap.get(c).getAsDouble(), r.getAp(c + 1), EPS, metric + " class " + c);
          }
        }
        assertEquals(cs.get("mapWithGroundTruth_" + metric).getAsDouble(), r.getMap(), EPS);
        assertEquals(
            cs.get("mapAllClasses_" + metric).getAsDouble(), allClasses.evaluate().getMap(), EPS);
        assertTrue(r.getMapConvention().contains("1 without ground truth left out"));
        assertTrue(r.toTable(null).contains(r.getMapConvention()));
      }
    }
  }

  private static int numClasses(JsonObject cs) {
    return cs.getAsJsonArray("classes").size();
  }

  /** Adds a VOC case: 1-based inclusive devkit boxes become {@code (xmin - 1, ymin - 1, ...)}. */
  private static void addVoc(JsonObject cs, VocEvaluator ev) {
    List<String> classes = new java.util.ArrayList<>();
    cs.getAsJsonArray("classes").forEach(e -> classes.add(e.getAsString()));
    Map<Long, Predictions.Builder> dets = new LinkedHashMap<>();
    for (JsonElement e : cs.getAsJsonArray("images")) {
      JsonObject im = e.getAsJsonObject();
      long id = Long.parseLong(im.get("id").getAsString());
      GroundTruth.Builder g = GroundTruth.builder();
      for (JsonElement oe : im.getAsJsonArray("objects")) {
        JsonObject o = oe.getAsJsonObject();
        JsonArray b = o.getAsJsonArray("box");
        g.add(
            classes.indexOf(o.get("name").getAsString()) + 1,
            b.get(0).getAsDouble() - 1,
            b.get(1).getAsDouble() - 1,
            b.get(2).getAsDouble(),
            b.get(3).getAsDouble(),
            o.get("difficult").getAsBoolean(),
            false,
            -1);
      }
      ev.addGroundTruth(id, g.build());
      dets.put(id, Predictions.builder());
    }
    for (JsonElement e : cs.getAsJsonArray("detections")) {
      JsonObject d = e.getAsJsonObject();
      JsonArray b = d.getAsJsonArray("box");
      dets.get(Long.parseLong(d.get("image").getAsString()))
          .add(
              classes.indexOf(d.get("name").getAsString()) + 1,
              d.get("score").getAsDouble(),
              b.get(0).getAsDouble() - 1,
              b.get(1).getAsDouble() - 1,
              b.get(2).getAsDouble(),
              b.get(3).getAsDouble());
    }
    dets.forEach((id, p) -> ev.addPredictions(id, p.build()));
  }
}
