package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Detections;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.weights.WeightImport;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** torchvision names, import reports and DJL save/load of a Faster R-CNN. */
class FasterRcnnWeightsTest {

  @Test
  void parameterNamesAreTorchvisions() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model = RcnnFixtures.twoLevel(false);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      Map<String, ?> names = TorchvisionNames.of(model);
      try (InputStream is =
          getClass().getResourceAsStream(RcnnFixtures.DIR + "two_level_weights.npz")) {
        StateDict sd = StateDict.fromNpz(manager, is);
        assertEquals(sd.names(), names.keySet());
      }
      assertTrue(names.containsKey("rpn.head.conv.0.0.weight"));
      assertTrue(names.containsKey("roi_heads.box_head.fc6.weight"));
      assertTrue(names.containsKey("roi_heads.box_predictor.cls_score.bias"));
    }
  }

  @Test
  void mismatchedStateDictIsReported() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model = RcnnFixtures.roiPool(false);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      try (InputStream is =
          getClass().getResourceAsStream(RcnnFixtures.DIR + "two_level_weights.npz")) {
        StateDict sd = StateDict.fromNpz(manager, is);
        ImportReport report = WeightImport.builder().optStrict(false).build().apply(model, sd);
        assertFalse(report.isComplete());
        assertTrue(report.missing().contains("backbone.0.weight"), report.toString());
        assertTrue(report.unexpected().contains("backbone.body.0.weight"), report.toString());
        // 4 classes in the file, 3 in the model
        assertTrue(
            report.misshaped().stream()
                .anyMatch(s -> s.startsWith("roi_heads.box_predictor.cls_score.weight")),
            report.toString());
        assertTrue(report.loaded().contains("rpn.head.conv.0.0.weight"), report.toString());
      }
    }
  }

  @Test
  void djlSaveAndLoadRoundTrips() throws IOException, MalformedModelException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, ai.djl.ndarray.NDArray> t = RcnnFixtures.load(manager, "transform.npz");
      NDList images = new NDList(t.get("image_0"), t.get("image_1"));
      FasterRcnn model = RcnnFixtures.twoLevel(false);
      RcnnFixtures.loadWeights(manager, model, "two_level");
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      model.saveParameters(new DataOutputStream(bytes));

      FasterRcnn copy = RcnnFixtures.twoLevel(false);
      copy.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      copy.loadParameters(
          manager, new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));

      ParameterStore ps = new ParameterStore(manager, false);
      List<Detections> a = model.detect(ps, images);
      List<Detections> b = copy.detect(ps, images);
      for (int i = 0; i < 2; i++) {
        FasterRcnnFixtureTest.assertClose(a.get(i).boxes(), b.get(i).boxes(), 0f, "boxes " + i);
        FasterRcnnFixtureTest.assertClose(a.get(i).scores(), b.get(i).scores(), 0f, "scores " + i);
      }
    }
  }

  /** Every tensor of torchvision's ImageNet vgg16 lands on a parameter of the paper model. */
  @Test
  void imageNetVgg16MapsOntoThePaperModel() {
    Map<String, ?> names = TorchvisionNames.of(FasterRcnnModels.fasterRcnnVgg16(20));
    int[] convs = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
    Set<String> mapped = new TreeSet<>();
    for (int c : convs) {
      for (String kind : new String[] {"weight", "bias"}) {
        String to = FasterRcnnModels.imageNetVgg16Name("features." + c + "." + kind);
        assertEquals("backbone.features." + c + "." + kind, to);
        assertTrue(names.containsKey(to), to);
        mapped.add(to);
      }
    }
    for (String kind : new String[] {"weight", "bias"}) {
      assertEquals(
          "roi_heads.box_head.fc6." + kind,
          FasterRcnnModels.imageNetVgg16Name("classifier.0." + kind));
      assertEquals(
          "roi_heads.box_head.fc7." + kind,
          FasterRcnnModels.imageNetVgg16Name("classifier.3." + kind));
      mapped.add("roi_heads.box_head.fc6." + kind);
      mapped.add("roi_heads.box_head.fc7." + kind);
    }
    // what the ImageNet file cannot provide is exactly the RPN and the box predictor
    Set<String> rest = new TreeSet<>(names.keySet());
    rest.removeAll(mapped);
    for (String name : rest) {
      assertTrue(
          name.startsWith("rpn.") || name.startsWith("roi_heads.box_predictor."),
          "not covered by the ImageNet import: " + name);
    }
    assertEquals(26 + 4, mapped.size());
  }

  /** A renamed, strict import copies values and excludes what the rename leaves unmatched. */
  @Test
  void renameMovesTensorsOntoOtherNames() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model = RcnnFixtures.twoLevel(false);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      Map<String, NDArray> renamed = new LinkedHashMap<>();
      try (InputStream is =
          getClass().getResourceAsStream(RcnnFixtures.DIR + "two_level_weights.npz")) {
        StateDict sd = StateDict.fromNpz(manager, is);
        for (Map.Entry<String, NDArray> e : sd.arrays().entrySet()) {
          renamed.put("old." + e.getKey(), e.getValue());
        }
        ImportReport report =
            WeightImport.builder()
                .optRename(n -> n.startsWith("old.") ? n.substring(4) : n)
                .build()
                .apply(model, StateDict.of(renamed));
        assertTrue(report.isComplete(), report.toString());
        NDArray want = sd.get("roi_heads.box_head.fc6.weight");
        NDArray got = TorchvisionNames.of(model).get("roi_heads.box_head.fc6.weight").getArray();
        assertEquals(0f, want.sub(got).abs().max().getFloat());
      }
      // two tensors renamed onto one parameter is an error, not a silent overwrite
      Map<String, NDArray> clash = new LinkedHashMap<>();
      clash.put("a", manager.zeros(new Shape(1)));
      clash.put("b", manager.zeros(new Shape(1)));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  WeightImport.builder()
                      .optStrict(false)
                      .optRename(n -> "same")
                      .build()
                      .apply(model, StateDict.of(clash)));
      assertTrue(e.getMessage().contains("same"), e.getMessage());
    }
  }
}
