package dev.jdetect.models.ssd;

import static dev.jdetect.models.backbone.BackboneTestSupport.arrays;
import static dev.jdetect.models.backbone.BackboneTestSupport.assertClose;
import static dev.jdetect.models.backbone.BackboneTestSupport.countParameters;
import static dev.jdetect.models.backbone.BackboneTestSupport.loadWeights;
import static dev.jdetect.models.backbone.BackboneTestSupport.properties;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.backbone.MobileNetV2;
import dev.jdetect.models.weights.TorchvisionNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * SSDlite on MobileNetV2 against torchvision 0.14.1's {@code SSDLiteHead} and {@code
 * SSDLiteFeatureExtractorMobileNet} semantics (fixtures from {@code
 * src/fixtures/gen_models_backbones.py}).
 */
public class SsdLiteTest {

  private static final String DIR = "/fixtures/ssdlite/";

  /**
   * The reduced network of the fixture: width 0.25, short setting, last channel 64.
   *
   * @return the model (not initialised)
   */
  public static Ssd smallModel() {
    MobileNetV2 net =
        MobileNetV2.builder()
            .optWidthMult(0.25f)
            .optInvertedResidualSetting(
                new int[][] {
                  {1, 16, 1, 1},
                  {6, 24, 2, 2},
                  {4, 32, 1, 2},
                  {4, 64, 1, 2},
                  {4, 96, 1, 1},
                  {4, 160, 1, 2},
                  {4, 320, 1, 1}
                })
            .optLastChannel(64)
            .optBatchNorm(0.001f, 0.03f)
            .build();
    SsdLiteFeatureExtractor extractor =
        SsdLiteFeatureExtractor.builder().setMobileNet(net).optWidthMult(0.125f).build();
    return SsdLite.mobileNetV2(3, extractor, 64);
  }

  @Test
  void extractorAndHeadMatchTorchvision() throws IOException {
    Properties meta = properties(DIR + "ssdlite_small.properties");
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "ssdlite_small_io.npz");
      NDArray x = io.get("input");
      Ssd model = smallModel();
      model.initialize(manager, DataType.FLOAT32, x.getShape());
      int[] channels = model.backbone().outChannels();
      List<String> expected = new ArrayList<>();
      for (int c : channels) {
        expected.add(Integer.toString(c));
      }
      assertEquals(meta.getProperty("channels"), String.join(",", expected));
      assertArrayEquals(new int[] {16, 32, 64, 128, 256, 512}, model.backbone().strides());
      // strict: every torchvision name present, none extra, all shapes equal
      loadWeights(manager, model, DIR + "ssdlite_small_weights.npz", "");

      ParameterStore ps = new ParameterStore(manager, false);
      NDList features = model.backbone().forward(ps, new NDList(x), false);
      assertEquals(6, features.size());
      for (int i = 0; i < 6; i++) {
        assertClose(io.get("feature" + i), features.get(i), 1e-4f, "feature " + i);
      }
      NDList head = model.head().forward(ps, features, false);
      assertClose(io.get("cls_logits"), head.get(0), 1e-4f, "cls_logits");
      assertClose(io.get("bbox_regression"), head.get(1), 1e-4f, "bbox_regression");
    }
  }

  @Test
  void detectionsAndLossesMatchTorchvisionSsd() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> in = arrays(manager, DIR + "ssdlite_small_io.npz");
      Map<String, NDArray> ref = arrays(manager, DIR + "ssdlite_small_ssd_io.npz");
      NDArray x = in.get("input");
      Ssd model = smallModel();
      model.initialize(manager, DataType.FLOAT32, x.getShape());
      loadWeights(manager, model, DIR + "ssdlite_small_weights.npz", "");
      ParameterStore ps = new ParameterStore(manager, false);
      List<dev.jdetect.models.Detections> dets =
          dev.jdetect.models.Detections.fromNDList(model.forward(ps, new NDList(x), false));
      for (int i = 0; i < 2; i++) {
        dev.jdetect.models.Detections d = dets.get(i);
        assertArrayEquals(
            ref.get("labels" + i).toType(DataType.INT64, false).toLongArray(),
            d.labels().toLongArray(),
            "labels " + i);
        assertClose(ref.get("scores" + i), d.scores(), 1e-4f, "scores " + i);
        assertClose(ref.get("boxes" + i), d.boxes(), 1e-4f, "boxes " + i);
      }
      NDList targets =
          dev.jdetect.models.Targets.pad(
              manager,
              List.of(
                  manager.create(new float[] {4, 6, 30, 40, 20, 18, 60, 62}, new Shape(2, 4)),
                  manager.create(new float[] {10, 2, 50, 30}, new Shape(1, 4))),
              List.of(manager.create(new long[] {1, 3}), manager.create(new long[] {2})));
      NDList losses = model.forward(ps, new NDList(x), targets, null);
      assertEquals(ref.get("loss_bbox_regression").getFloat(), losses.get(0).getFloat(), 1e-4f);
      assertEquals(ref.get("loss_classification").getFloat(), losses.get(1).getFloat(), 1e-4f);
    }
  }

  @Test
  void namesFollowTorchvisionLayout() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = smallModel();
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      Map<String, ai.djl.nn.Parameter> names = TorchvisionNames.of(model);
      for (String n :
          List.of(
              "backbone.features.0.0.0.weight",
              "backbone.features.0.7.0.weight", // C4 expansion conv (c4_pos = 7)
              "backbone.features.1.0.1.0.weight", // C4 depthwise, torchvision position 1
              "backbone.features.1.0.3.running_var",
              "backbone.features.1.2.0.weight", // last Conv2dNormActivation
              "backbone.extra.3.2.1.bias",
              "head.classification_head.module_list.5.0.0.weight",
              "head.regression_head.module_list.0.1.bias")) {
        assertTrue(names.containsKey(n), n);
      }
    }
  }

  @Test
  void fullSizeStructureMatchesTorchvision() throws IOException {
    Properties full = properties(DIR + "full_size.properties");
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = SsdLite.mobileNetV2(90);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 320, 320));
      assertEquals(
          Long.parseLong(full.getProperty("ssdlite320_mobilenet_v2.91.params")),
          countParameters(model));
      SsdLiteFeatureExtractor ext = (SsdLiteFeatureExtractor) model.backbone();
      StringBuilder ch = new StringBuilder();
      for (int c : ext.outChannels()) {
        ch.append(ch.length() == 0 ? "" : ",").append(c);
      }
      assertEquals(full.getProperty("ssdlite320_mobilenet_v2.channels"), ch.toString());
      Shape[] maps = ext.getOutputShapes(new Shape[] {new Shape(1, 3, 320, 320)});
      StringBuilder ms = new StringBuilder();
      List<Shape> hw = new ArrayList<>();
      for (Shape s : maps) {
        ms.append(ms.length() == 0 ? "" : ",").append(s.get(2));
        hw.add(new Shape(s.get(2), s.get(3)));
      }
      assertEquals(full.getProperty("ssdlite320_mobilenet_v2.maps"), ms.toString());
      NDArray priors = model.anchorGenerator().generate(manager, hw, 320, 320);
      assertEquals(
          Long.parseLong(full.getProperty("ssdlite320_mobilenet_v2.priors")),
          priors.getShape().get(0));
      assertArrayEquals(
          new int[] {6, 6, 6, 6, 6, 6}, model.anchorGenerator().numAnchorsPerLocation());
    }
  }

  @Test
  void detectsAndTrainsEndToEnd() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(5);
      Ssd model = smallModel();
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray images = manager.randomUniform(0, 1, new Shape(2, 3, 80, 96));
      List<dev.jdetect.models.Detections> dets =
          dev.jdetect.models.Detections.fromNDList(model.forward(ps, new NDList(images), false));
      assertEquals(2, dets.size());
      NDList targets =
          dev.jdetect.models.Targets.pad(
              manager,
              List.of(
                  manager.create(new float[] {10, 10, 50, 60}, new Shape(1, 4)),
                  manager.zeros(new Shape(0, 4))),
              List.of(manager.create(new long[] {2}), manager.create(new long[0])));
      NDList losses = model.forward(ps, new NDList(images), targets, null);
      assertEquals(2, losses.size());
      for (NDArray l : losses) {
        assertTrue(Float.isFinite(l.getFloat()) && l.getFloat() >= 0, l.getName());
      }
    }
  }

  @Test
  void badConfigurationIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> SsdLiteFeatureExtractor.builder().build());
    assertThrows(
        IllegalArgumentException.class,
        () -> SsdLiteHead.create(new int[] {8, 8}, new int[] {6}, 3));
    MobileNetV2 noStride =
        MobileNetV2.builder().optInvertedResidualSetting(new int[][] {{1, 16, 1, 1}}).build();
    assertThrows(
        IllegalArgumentException.class,
        () -> SsdLiteFeatureExtractor.builder().setMobileNet(noStride).build());
  }
}
