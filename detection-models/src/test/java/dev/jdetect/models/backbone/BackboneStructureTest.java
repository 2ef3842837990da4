package dev.jdetect.models.backbone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.jdetect.models.weights.TorchvisionNames;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Full-size structure of the backbones against torchvision 0.14.1: parameter counts, state_dict
 * names and shapes, output shapes.
 */
class BackboneStructureTest {

  private static final String DIR = "/fixtures/backbone/";

  private static Map<String, String> derivedNames(Block block) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(block).entrySet()) {
      long[] dims = e.getValue().getArray().getShape().getShape();
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < dims.length; i++) {
        sb.append(i == 0 ? "" : ",").append(dims[i]);
      }
      out.put(e.getKey(), sb.toString());
    }
    return out;
  }

  @Test
  void vgg16MatchesTorchvisionCountsAndNames() throws IOException {
    Properties counts = BackboneTestSupport.properties(DIR + "param_counts.properties");
    try (NDManager manager = NDManager.newBaseManager()) {
      Vgg16 vgg = Vgg16.builder().build();
      vgg.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertEquals(
          Long.parseLong(counts.getProperty("vgg16.features")),
          BackboneTestSupport.countParameters(vgg));
      assertEquals(BackboneTestSupport.names(DIR + "vgg16_names.txt"), derivedNames(vgg));
      assertEquals(31, vgg.getFeatures().getChildren().size());
      assertArrayEquals(new int[] {512}, vgg.outChannels());
      assertArrayEquals(new int[] {32}, vgg.strides());
      assertEquals(
          new Shape(1, 512, 9, 9), vgg.getOutputShapes(new Shape[] {new Shape(1, 3, 300, 300)})[0]);

      Vgg16 c53 = Vgg16.builder().optForm(Vgg16.Form.CONV5_3).build();
      c53.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertEquals(
          Long.parseLong(counts.getProperty("vgg16.conv5_3")),
          BackboneTestSupport.countParameters(c53));
      assertEquals(30, c53.getFeatures().getChildren().size());
      assertArrayEquals(new int[] {16}, c53.strides());
      assertEquals(
          new Shape(1, 512, 37, 50),
          c53.getOutputShapes(new Shape[] {new Shape(1, 3, 600, 800)})[0]);
    }
  }

  @Test
  void resnet50MatchesTorchvisionCountsAndNames() throws IOException {
    Properties counts = BackboneTestSupport.properties(DIR + "param_counts.properties");
    Map<String, String> tvNames = BackboneTestSupport.names(DIR + "resnet50_names.txt");
    try (NDManager manager = NDManager.newBaseManager()) {
      ResNet50 c5 = ResNet50.builder().build();
      c5.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertEquals(
          Long.parseLong(counts.getProperty("resnet50.c5")),
          BackboneTestSupport.countParameters(c5));
      assertEquals(tvNames, derivedNames(c5));
      assertArrayEquals(new int[] {2048}, c5.outChannels());

      Map<String, String> c4Names = new LinkedHashMap<>();
      tvNames.forEach(
          (k, v) -> {
            if (!k.startsWith("layer4.")) {
              c4Names.put(k, v);
            }
          });
      for (ResNet50.Form form : new ResNet50.Form[] {ResNet50.Form.C4, ResNet50.Form.SSD}) {
        for (boolean frozen : new boolean[] {false, true}) {
          ResNet50 net = ResNet50.builder().optForm(form).optFrozenBatchNorm(frozen).build();
          net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
          assertEquals(
              Long.parseLong(counts.getProperty("resnet50.c4")),
              BackboneTestSupport.countParameters(net),
              form + " frozen=" + frozen);
          assertEquals(c4Names, derivedNames(net), form + " frozen=" + frozen);
          assertArrayEquals(new int[] {1024}, net.outChannels());
        }
      }
      ResNet50 c4 = ResNet50.builder().optForm(ResNet50.Form.C4).build();
      assertEquals(
          new Shape(2, 1024, 19, 19),
          c4.getOutputShapes(new Shape[] {new Shape(2, 3, 300, 300)})[0]);
      assertArrayEquals(new int[] {16}, c4.strides());
      ResNet50 ssd = ResNet50.builder().optForm(ResNet50.Form.SSD).build();
      assertEquals(
          new Shape(1, 1024, 38, 38),
          ssd.getOutputShapes(new Shape[] {new Shape(1, 3, 300, 300)})[0]);
      assertArrayEquals(new int[] {8}, ssd.strides());
    }
  }

  @Test
  void mobileNetV2MatchesTorchvisionCountsAndNames() throws IOException {
    Properties counts = BackboneTestSupport.properties(DIR + "param_counts.properties");
    try (NDManager manager = NDManager.newBaseManager()) {
      MobileNetV2 net = MobileNetV2.builder().build();
      net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertEquals(
          Long.parseLong(counts.getProperty("mobilenet_v2.features")),
          BackboneTestSupport.countParameters(net));
      assertEquals(BackboneTestSupport.names(DIR + "mobilenet_v2_names.txt"), derivedNames(net));
      assertEquals(19, net.getFeatures().getChildren().size());
      assertArrayEquals(new int[] {1280}, net.outChannels());
      assertArrayEquals(new int[] {32}, net.strides());
      assertEquals(
          new Shape(1, 1280, 10, 10),
          net.getOutputShapes(new Shape[] {new Shape(1, 3, 320, 320)})[0]);
    }
  }

  private static java.util.Set<String> trainableNames(Block block) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    TorchvisionNames.of(block)
        .forEach(
            (name, p) -> {
              if (p.requiresGradient()) {
                out.add(name);
              }
            });
    return out;
  }

  @Test
  void trainableLayersAndFrozenModulesFollowTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Shape in = new Shape(1, 3, 64, 64);
      ResNet50 three = ResNet50.builder().optTrainableLayers(3).build();
      three.initialize(manager, DataType.FLOAT32, in);
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(three).entrySet()) {
        String n = e.getKey();
        boolean stats = n.endsWith("running_mean") || n.endsWith("running_var");
        boolean expected =
            !stats
                && (n.startsWith("layer2.") || n.startsWith("layer3.") || n.startsWith("layer4."));
        assertEquals(expected, e.getValue().requiresGradient(), n);
        assertEquals(expected, e.getValue().getArray().hasGradient(), n + " (array)");
      }
      ResNet50 all = ResNet50.builder().optForm(ResNet50.Form.C4).build();
      all.initialize(manager, DataType.FLOAT32, in);
      org.junit.jupiter.api.Assertions.assertTrue(trainableNames(all).contains("bn1.weight"));
      ResNet50 four = ResNet50.builder().optForm(ResNet50.Form.C4).optTrainableLayers(4).build();
      four.initialize(manager, DataType.FLOAT32, in);
      java.util.Set<String> t4 = trainableNames(four);
      org.junit.jupiter.api.Assertions.assertFalse(t4.contains("bn1.weight"));
      org.junit.jupiter.api.Assertions.assertFalse(t4.contains("conv1.weight"));
      org.junit.jupiter.api.Assertions.assertTrue(t4.contains("layer1.0.conv1.weight"));
      assertThrows(IllegalArgumentException.class, () -> ResNet50.builder().optTrainableLayers(6));

      Vgg16 vgg = Vgg16.builder().optForm(Vgg16.Form.CONV5_3).optFrozenModules(10).build();
      vgg.initialize(manager, DataType.FLOAT32, in);
      java.util.Set<String> tv = trainableNames(vgg);
      org.junit.jupiter.api.Assertions.assertFalse(tv.contains("features.7.weight"));
      org.junit.jupiter.api.Assertions.assertTrue(tv.contains("features.10.weight"));
      assertEquals(26 - 8, tv.size());

      MobileNetV2 mb = MobileNetV2.builder().optFrozenModules(2).build();
      mb.initialize(manager, DataType.FLOAT32, in);
      java.util.Set<String> tm = trainableNames(mb);
      org.junit.jupiter.api.Assertions.assertFalse(tm.contains("features.1.conv.1.weight"));
      org.junit.jupiter.api.Assertions.assertTrue(tm.contains("features.2.conv.0.0.weight"));

      assertEquals(
          new Shape(1, 2048, 2, 2),
          ResNet50.layer(4, 2, true).getOutputShapes(new Shape[] {new Shape(1, 1024, 4, 4)})[0]);
    }
  }

  @Test
  void frozenResNetSavesAndLoadsInDjlFormat() throws IOException, ai.djl.MalformedModelException {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(4);
      Shape in = new Shape(1, 3, 64, 64);
      ResNet50 net = ResNet50.builder().optForm(ResNet50.Form.C4).optFrozenBatchNorm(true).build();
      net.initialize(manager, DataType.FLOAT32, in);
      // give the frozen norms non-trivial statistics
      for (Map.Entry<String, Parameter> e : TorchvisionNames.of(net).entrySet()) {
        if (e.getKey().endsWith("running_var")) {
          e.getValue()
              .getArray()
              .addi(manager.randomUniform(0, 1, e.getValue().getArray().getShape()));
        }
      }
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      net.saveParameters(new java.io.DataOutputStream(bytes));
      ResNet50 copy = ResNet50.builder().optForm(ResNet50.Form.C4).optFrozenBatchNorm(true).build();
      copy.initialize(manager, DataType.FLOAT32, in);
      copy.loadParameters(
          manager,
          new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
      ai.djl.training.ParameterStore ps = new ai.djl.training.ParameterStore(manager, false);
      ai.djl.ndarray.NDArray x = manager.randomUniform(0, 1, in);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          net.forward(ps, new ai.djl.ndarray.NDList(x), false).head().toFloatArray(),
          copy.forward(ps, new ai.djl.ndarray.NDList(x), true).head().toFloatArray(),
          1e-5f);
    }
  }

  @Test
  void makeDivisibleFollowsTorchvision() {
    assertEquals(8, MobileNetV2.makeDivisible(32 * 0.25f, 8));
    assertEquals(16, MobileNetV2.makeDivisible(9.6f, 8));
    assertEquals(24, MobileNetV2.makeDivisible(24, 8));
    assertEquals(40, MobileNetV2.makeDivisible(160 * 0.25f, 8));
    assertEquals(1280, MobileNetV2.makeDivisible(1280, 8));
  }

  @Test
  void badInputIsRejected() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Vgg16 vgg = Vgg16.builder().optForm(Vgg16.Form.CONV5_3).build();
      vgg.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 32, 32));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  vgg.forward(
                      new ai.djl.training.ParameterStore(manager, false),
                      new ai.djl.ndarray.NDList(manager.zeros(new Shape(1, 4, 32, 32))),
                      false));
      org.junit.jupiter.api.Assertions.assertTrue(
          e.getMessage().contains("(1, 4, 32, 32)"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> Vgg16.buildFeatures(0, false));
      assertThrows(
          IllegalArgumentException.class,
          () -> MobileNetV2.builder().optInvertedResidualSetting(new int[][] {{1, 2, 3}}));
      assertThrows(
          IllegalArgumentException.class, () -> new InvertedResidual(8, 8, 3, 6, 1e-5f, 0.1f));
    }
  }
}
