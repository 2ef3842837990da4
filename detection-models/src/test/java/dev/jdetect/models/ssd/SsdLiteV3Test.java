package dev.jdetect.models.ssd;

import static dev.jdetect.models.backbone.BackboneTestSupport.arrays;
import static dev.jdetect.models.backbone.BackboneTestSupport.assertClose;
import static dev.jdetect.models.backbone.BackboneTestSupport.loadWeights;
import static dev.jdetect.models.backbone.BackboneTestSupport.properties;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.backbone.MobileNetV3;
import dev.jdetect.models.weights.TorchvisionNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * SSDlite on MobileNetV3 equals torchvision 0.14.1's {@code ssdlite320_mobilenet_v3_large} parts on
 * a reduced table (src/fixtures/gen_models_ssdlite_v3.py): the C4 split, features, head,
 * detections, both losses and every parameter's gradient.
 */
class SsdLiteV3Test {

  private static final String DIR = "/fixtures/ssdlite/";

  /** The generator's table: (in, kernel, expanded, out, SE, hardswish, stride). */
  static Ssd smallModel() {
    int[][] table = {
      {8, 3, 8, 8, 0, 0, 1},
      {8, 3, 24, 16, 0, 0, 2},
      {16, 5, 32, 16, 1, 1, 1},
      {16, 3, 40, 16, 1, 1, 2},
      {16, 5, 48, 24, 0, 1, 2},
      {24, 5, 48, 24, 1, 1, 2},
      {24, 5, 48, 24, 1, 1, 1}
    };
    List<MobileNetV3.Stage> stages = new ArrayList<>();
    for (int[] r : table) {
      stages.add(new MobileNetV3.Stage(r[0], r[1], r[2], r[3], r[4] == 1, r[5] == 1, r[6], 1));
    }
    MobileNetV3 net = MobileNetV3.builder().optStages(stages).optBatchNorm(0.001f, 0.03f).build();
    SsdLiteFeatureExtractor extractor =
        SsdLiteFeatureExtractor.builder().setMobileNet(net).optWidthMult(0.125f).build();
    return SsdLite.withExtractor(3, extractor, 128);
  }

  private static NDArray images(Map<String, NDArray> io) {
    return NDArrays.stack(new NDList(io.get("image_0"), io.get("image_1")));
  }

  private static NDList targets(NDManager manager, Map<String, NDArray> io) {
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      boxes.add(io.get("target_boxes_" + i));
      labels.add(io.get("target_labels_" + i));
    }
    return Targets.pad(manager, boxes, labels);
  }

  private static Ssd loaded(NDManager manager, NDArray images) throws IOException {
    Ssd model = smallModel();
    model.initialize(manager, DataType.FLOAT32, images.getShape());
    // strict: every torchvision name present, none extra, all shapes equal
    loadWeights(manager, model, DIR + "ssdlite_v3_small_weights.npz", "");
    return model;
  }

  @Test
  void splitFeaturesAndHeadMatchTorchvision() throws IOException {
    Properties meta = properties(DIR + "ssdlite_v3_small.properties");
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "ssdlite_v3_small_io.npz");
      NDArray x = images(io);
      Ssd model = loaded(manager, x);
      StringBuilder channels = new StringBuilder();
      for (int c : model.backbone().outChannels()) {
        channels.append(channels.length() == 0 ? "" : ",").append(c);
      }
      assertEquals(meta.getProperty("channels"), channels.toString());
      assertArrayEquals(new int[] {16, 32, 64, 128, 256, 512}, model.backbone().strides());
      String c4 = meta.getProperty("c4_pos");
      Map<String, Parameter> names = TorchvisionNames.of(model);
      assertTrue(names.containsKey("backbone.features.0." + c4 + ".0.weight"), "C4 expansion");
      assertTrue(names.containsKey("backbone.features.1.0.2.fc1.weight"), "C4 squeeze-excite");

      ParameterStore ps = new ParameterStore(manager, false);
      NDArray batch = model.transform().apply(x);
      NDList features = model.backbone().forward(ps, new NDList(batch), false);
      assertEquals(6, features.size());
      for (int i = 0; i < 6; i++) {
        assertClose(io.get("feature_" + i), features.get(i), 1e-4f, "feature " + i);
      }
      NDList head = model.head().forward(ps, features, false);
      assertClose(io.get("cls_logits"), head.get(0), 1e-4f, "cls_logits");
      assertClose(io.get("bbox_regression"), head.get(1), 1e-4f, "bbox_regression");

      List<Detections> dets = Detections.fromNDList(model.forward(ps, new NDList(x), false));
      for (int i = 0; i < 2; i++) {
        Detections d = dets.get(i);
        assertArrayEquals(
            io.get("labels" + i).toLongArray(), d.labels().toLongArray(), "labels " + i);
        assertClose(io.get("scores" + i), d.scores(), 1e-4f, "scores " + i);
        assertClose(io.get("boxes" + i), d.boxes(), 1e-3f, "boxes " + i);
      }
    }
  }

  @Test
  void lossesAndGradientsMatchTorchvision() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "ssdlite_v3_small_io.npz");
      Map<String, NDArray> grads = arrays(manager, DIR + "ssdlite_v3_small_grads.npz");
      NDArray x = images(io);
      Ssd model = loaded(manager, x);
      Map<String, Parameter> params = new LinkedHashMap<>(TorchvisionNames.of(model));
      params.values().removeIf(p -> !p.requiresGradient());
      assertEquals(grads.keySet(), params.keySet(), "trainable parameters");
      for (Parameter p : params.values()) {
        p.getArray().setRequiresGradient(true);
      }
      ParameterStore ps = new ParameterStore(manager, false);
      NDList losses;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        losses = model.forward(ps, new NDList(x), targets(manager, io), null);
        gc.backward(losses.get(0).add(losses.get(1)));
      }
      assertEquals(io.get("loss_bbox_regression").getFloat(), losses.get(0).getFloat(), 1e-4f);
      assertEquals(io.get("loss_classification").getFloat(), losses.get(1).getFloat(), 1e-4f);
      float largest = 0;
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray want = grads.get(e.getKey());
        NDArray got = e.getValue().getArray().getGradient().reshape(want.getShape());
        float scale = Math.max(1f, want.abs().max().getFloat());
        assertClose(want, got, 2e-4f * scale, "grad " + e.getKey());
        largest = Math.max(largest, want.abs().max().getFloat());
      }
      assertTrue(largest > 1e-2f, "largest torchvision gradient " + largest);
    }
  }

  @Test
  void anExtractorNeedsAStrideTwoBlock() {
    MobileNetV3 flat =
        MobileNetV3.builder()
            .optStages(List.of(new MobileNetV3.Stage(16, 3, 32, 16, false, false, 1, 1)))
            .build();
    assertThrows(
        IllegalArgumentException.class,
        () -> SsdLiteFeatureExtractor.builder().setMobileNet(flat).build());
  }
}
