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
 * RetinaNet (v1, v2) and FCOS equal torchvision 0.14.1 on the same weights: head outputs, anchors,
 * detections, losses and gradients (src/fixtures/gen_models_dense.py).
 */
class DenseFixtureTest {

  private static final float TOL = 1e-4f;

  private static DenseDetector load(NDManager manager, String version) {
    return "fcos".equals(version)
        ? TinyDenseModels.load(manager, version, TinyDenseModels.buildFcos())
        : TinyDenseModels.load(manager, version);
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void retinaNetHeadAndAnchorsMatchTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyDenseModels.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyDenseModels.DIR + version + "_outputs.npz");
      RetinaNet model = TinyDenseModels.load(manager, version);
      ParameterStore ps = new ParameterStore(manager, false);
      DenseDetector.Features features = model.features(ps, TinyDenseModels.images(in), false);
      RetinaNetHead.Predictions predictions = model.predict(ps, features, false);
      assertClose(Fixtures.get(out, "anchors"), features.anchors(), 0f, version + " anchors");
      assertClose(Fixtures.get(out, "cls_logits"), predictions.logits(), TOL, version + " logits");
      assertClose(
          Fixtures.get(out, "bbox_regression"), predictions.deltas(), TOL, version + " deltas");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"fcos"})
  void fcosHeadAndPointsMatchTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyDenseModels.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyDenseModels.DIR + version + "_outputs.npz");
      Fcos model = TinyDenseModels.load(manager, version, TinyDenseModels.buildFcos());
      ParameterStore ps = new ParameterStore(manager, false);
      DenseDetector.Features features = model.features(ps, TinyDenseModels.images(in), false);
      FcosHead.Predictions predictions = model.predict(ps, features, false);
      assertClose(Fixtures.get(out, "anchors"), features.anchors(), 0f, "points");
      assertClose(Fixtures.get(out, "cls_logits"), predictions.logits(), TOL, "logits");
      assertClose(Fixtures.get(out, "bbox_regression"), predictions.distances(), TOL, "distances");
      assertClose(Fixtures.get(out, "bbox_ctrness"), predictions.centerness(), TOL, "centre-ness");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2", "fcos"})
  void detectionsMatchTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyDenseModels.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyDenseModels.DIR + version + "_outputs.npz");
      DenseDetector model = load(manager, version);
      ParameterStore ps = new ParameterStore(manager, false);
      List<Detections> detections = model.detect(ps, TinyDenseModels.images(in));
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
      NDList flat = model.forward(ps, TinyDenseModels.images(in), false);
      assertEquals(6, flat.size());
      assertClose(detections.get(1).boxes(), flat.get(3), 0f, version + " forward boxes");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2", "fcos"})
  void lossesAndGradientsMatchTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyDenseModels.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyDenseModels.DIR + version + "_outputs.npz");
      NDList grads = Fixtures.load(manager, TinyDenseModels.DIR + version + "_grads.npz");
      DenseDetector model = load(manager, version);
      Map<String, Parameter> params = TorchvisionNames.of(model);
      assertEquals(grads.size(), params.size(), version + ": parameter count");
      for (Parameter p : params.values()) {
        p.getArray().setRequiresGradient(true);
      }
      ParameterStore ps = new ParameterStore(manager, false);
      String[] names = model.lossNames();
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses =
            model.forward(
                ps, TinyDenseModels.images(in), TinyDenseModels.targets(manager, in), null);
        assertEquals(names.length, losses.size());
        NDArray total = losses.get(0);
        for (int i = 0; i < names.length; i++) {
          assertEquals(names[i], losses.get(i).getName());
          TinyDenseModels.assertLoss(
              Fixtures.get(out, names[i]), losses.get(i), version + " " + names[i]);
          total = i == 0 ? total : total.add(losses.get(i));
        }
        gc.backward(total);
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
  @ValueSource(strings = {"v1", "v2", "fcos"})
  void tinyObjectsAndEmptyImagesTrainAsTorchvision(String version) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList in = Fixtures.load(manager, TinyDenseModels.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyDenseModels.DIR + version + "_outputs.npz");
      DenseDetector model = load(manager, version);
      ParameterStore ps = new ParameterStore(manager, false);
      NDList tiny =
          Targets.pad(
              manager,
              List.of(Fixtures.get(in, "tiny_boxes")),
              List.of(Fixtures.get(in, "tiny_labels")));
      NDList empty =
          Targets.pad(
              manager,
              List.of(manager.zeros(new Shape(0, 4))),
              List.of(manager.zeros(new Shape(0), DataType.INT64)));
      NDList tinyLosses = model.forward(ps, new NDList(Fixtures.get(in, "image_0")), tiny, null);
      NDList emptyLosses = model.forward(ps, new NDList(Fixtures.get(in, "image_1")), empty, null);
      String[] names = model.lossNames();
      for (int i = 0; i < names.length; i++) {
        TinyDenseModels.assertLoss(
            Fixtures.get(out, "tiny_" + names[i]),
            tinyLosses.get(i),
            version + " tiny " + names[i]);
        TinyDenseModels.assertLoss(
            Fixtures.get(out, "empty_" + names[i]),
            emptyLosses.get(i),
            version + " empty " + names[i]);
        if (i > 0) {
          assertEquals(0f, emptyLosses.get(i).getFloat(), "no foreground, no " + names[i]);
        }
      }
    }
  }
}
