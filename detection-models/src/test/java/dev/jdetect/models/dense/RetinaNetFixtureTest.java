package dev.jdetect.models.dense;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static dev.jdetect.testkit.NDAssertions.assertCloseScaled;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.testkit.Fixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RetinaNet equals torchvision 0.14.1 on the same weights (src/fixtures/gen_models_retinanet.py).
 */
class RetinaNetFixtureTest {

  private static final float TOL = 1e-4f;

  private static NDList images(NDList f) {
    return new NDList(Fixtures.get(f, "image_0"), Fixtures.get(f, "image_1"));
  }

  private static NDList targets(NDManager manager, NDList f) {
    return Targets.pad(
        manager,
        List.of(Fixtures.get(f, "target_boxes_0"), manager.zeros(new Shape(0, 4))),
        List.of(Fixtures.get(f, "target_labels_0"), manager.zeros(new Shape(0), DataType.INT64)));
  }

  private static void assertLosses(NDArray want, NDArray got, String what) {
    assertEquals(new Shape(), got.getShape(), what + " is a scalar");
    assertTrue(Float.isFinite(got.getFloat()), what + " is finite: " + got.getFloat());
    assertCloseScaled(want.reshape(), got, 1e-5f, what);
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void headAnchorsAndDetectionsMatchTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyRetinaNets.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyRetinaNets.DIR + version + "_outputs.npz");
      RetinaNet model = TinyRetinaNets.load(manager, version);
      ParameterStore ps = new ParameterStore(manager, false);

      DenseDetector.Features features = model.features(ps, images(in), false);
      RetinaNetHead.Predictions predictions = model.predict(ps, features, false);
      assertClose(Fixtures.get(out, "anchors"), features.anchors(), 0f, version + " anchors");
      assertClose(Fixtures.get(out, "cls_logits"), predictions.logits(), TOL, version + " logits");
      assertClose(
          Fixtures.get(out, "bbox_regression"), predictions.deltas(), TOL, version + " deltas");

      List<Detections> detections = model.detect(ps, images(in));
      assertEquals(2, detections.size());
      for (int i = 0; i < 2; i++) {
        Detections d = detections.get(i);
        String what = version + " image " + i;
        assertEquals(30, d.size(), what + ": the detections-per-image cut applies");
        assertArrayEquals(
            Fixtures.get(out, "det_labels_" + i).toLongArray(),
            d.labels().toLongArray(),
            what + " labels");
        assertClose(Fixtures.get(out, "det_boxes_" + i), d.boxes(), TOL, what + " boxes");
        assertClose(Fixtures.get(out, "det_scores_" + i), d.scores(), TOL, what + " scores");
      }
      NDList flat = model.forward(ps, images(in), false);
      assertEquals(6, flat.size());
      assertClose(detections.get(1).boxes(), flat.get(3), 0f, version + " forward boxes");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void lossesAndGradientsMatchTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyRetinaNets.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyRetinaNets.DIR + version + "_outputs.npz");
      NDList grads = Fixtures.load(manager, TinyRetinaNets.DIR + version + "_grads.npz");
      RetinaNet model = TinyRetinaNets.load(manager, version);
      Map<String, Parameter> params = TorchvisionNames.of(model);
      assertEquals(grads.size(), params.size(), version + ": parameter count");
      for (Parameter p : params.values()) {
        p.getArray().setRequiresGradient(true);
      }
      ParameterStore ps = new ParameterStore(manager, false);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images(in), targets(manager, in), null);
        assertEquals(2, losses.size());
        String[] names = model.lossNames();
        for (int i = 0; i < 2; i++) {
          assertEquals(names[i], losses.get(i).getName());
          assertLosses(Fixtures.get(out, names[i]), losses.get(i), version + " " + names[i]);
        }
        gc.backward(losses.get(0).add(losses.get(1)));
      }
      float largest = 0;
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray want = Fixtures.get(grads, e.getKey());
        NDArray got = e.getValue().getArray().getGradient().reshape(want.getShape());
        assertCloseScaled(want, got, 1e-4f, version + " grad " + e.getKey());
        largest = Math.max(largest, want.abs().max().getFloat());
      }
      assertTrue(largest > 1e-3f, version + ": largest torchvision gradient " + largest);
    }
  }

  /**
   * An image whose objects are all smaller than every anchor, and an image without objects, train
   * with finite losses equal to torchvision's.
   */
  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void tinyObjectsAndEmptyImagesTrainAsTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyRetinaNets.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyRetinaNets.DIR + version + "_outputs.npz");
      RetinaNet model = TinyRetinaNets.load(manager, version);
      ParameterStore ps = new ParameterStore(manager, false);
      NDList tiny =
          Targets.pad(
              manager,
              List.of(Fixtures.get(in, "tiny_boxes")),
              List.of(Fixtures.get(in, "tiny_labels")));
      NDList losses = model.forward(ps, new NDList(Fixtures.get(in, "image_0")), tiny, null);
      assertLosses(Fixtures.get(out, "tiny_loss_classification"), losses.get(0), "tiny cls");
      assertLosses(Fixtures.get(out, "tiny_loss_bbox_regression"), losses.get(1), "tiny box");
      assertTrue(losses.get(1).getFloat() > 0, "tiny objects still get matched anchors");

      NDList empty =
          Targets.pad(
              manager,
              List.of(manager.zeros(new Shape(0, 4))),
              List.of(manager.zeros(new Shape(0), DataType.INT64)));
      losses = model.forward(ps, new NDList(Fixtures.get(in, "image_1")), empty, null);
      assertLosses(Fixtures.get(out, "empty_loss_classification"), losses.get(0), "empty cls");
      assertLosses(Fixtures.get(out, "empty_loss_bbox_regression"), losses.get(1), "empty box");
      assertEquals(0f, losses.get(1).getFloat(), "no foreground, no box loss");
    }
  }
}
