package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jdetect.models.weights.TorchvisionNames;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Full-size structure of the VGG16 SSD models: names, shapes, parameter count, priors. */
class SsdStructureTest {

  @Test
  void ssd300MatchesTorchvisionStateDictAndParameterCount() throws IOException {
    Map<String, String> want = new LinkedHashMap<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                getClass().getResourceAsStream("/fixtures/ssd/ssd300_vgg16_state_dict.txt"),
                StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        String[] parts = line.split(" ");
        want.put(parts[0], parts[1]);
      }
    }
    assertEquals(71, want.size());
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = SsdModels.ssd300Vgg16(90);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 300, 300));
      Map<String, Parameter> names = TorchvisionNames.of(model);
      Map<String, String> got = new LinkedHashMap<>();
      long count = 0;
      for (Map.Entry<String, Parameter> e : names.entrySet()) {
        long[] dims = e.getValue().getArray().getShape().getShape();
        List<String> parts = new ArrayList<>();
        for (long d : dims) {
          parts.add(Long.toString(d));
        }
        got.put(e.getKey(), String.join(",", parts));
        count += e.getValue().getArray().size();
      }
      assertEquals(want, got);
      assertEquals(35_641_826L, count);
      assertEquals(90, model.numClasses());
      float scale = names.get("backbone.scale_weight").getArray().mean().getFloat();
      assertEquals(20f, scale, 0f);
    }
  }

  @Test
  void ssd300HasTorchvisionGridsChannelsAnd8732Priors() {
    VggFeatureExtractor vgg = VggFeatureExtractor.ssd300();
    Shape[] shapes = vgg.getOutputShapes(new Shape[] {new Shape(1, 3, 300, 300)});
    int[] grids = {38, 19, 10, 5, 3, 1};
    int[] channels = {512, 1024, 512, 256, 256, 256};
    assertArrayEquals(channels, vgg.outChannels());
    assertArrayEquals(new int[] {8, 16, 32, 64, 100, 300}, vgg.strides());
    assertEquals(6, shapes.length);
    for (int i = 0; i < 6; i++) {
      assertEquals(new Shape(1, channels[i], grids[i], grids[i]), shapes[i], "source " + i);
    }
    assertEquals(8732, priors(SsdModels.ssd300Vgg16(90), shapes, 300));
  }

  @Test
  void ssd512HasSevenSourcesAnd24564Priors() {
    Ssd ssd512 = SsdModels.ssd512Vgg16(20);
    Shape[] shapes = ssd512.backbone().getOutputShapes(new Shape[] {new Shape(1, 3, 512, 512)});
    int[] grids = {64, 32, 16, 8, 4, 2, 1};
    assertEquals(7, shapes.length);
    for (int i = 0; i < 7; i++) {
      assertEquals(grids[i], shapes[i].get(2), "source " + i);
      assertEquals(grids[i], shapes[i].get(3), "source " + i);
    }
    assertArrayEquals(
        new int[] {512, 1024, 512, 256, 256, 256, 256}, ssd512.backbone().outChannels());
    assertEquals(24564, priors(ssd512, shapes, 512));
    assertEquals(
        new Shape(1, 3, 512, 512), ssd512.transform().inputShape(new Shape(1, 3, 300, 700)));
  }

  private static long priors(Ssd model, Shape[] shapes, int size) {
    List<Shape> grids = new ArrayList<>();
    for (Shape s : shapes) {
      grids.add(new Shape(s.get(2), s.get(3)));
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray anchors = model.anchorGenerator().generate(manager, grids, size, size);
      return anchors.getShape().get(0);
    }
  }
}
