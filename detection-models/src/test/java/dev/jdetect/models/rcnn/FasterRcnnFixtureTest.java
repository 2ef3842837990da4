package dev.jdetect.models.rcnn;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Faster R-CNN equals torchvision 0.14.1 on the same weights (src/fixtures/gen_models_rcnn.py). */
class FasterRcnnFixtureTest {

  private static final float TOL = 1e-4f;
  private static final float GRAD_TOL = 1e-4f;

  static void assertClose(NDArray expected, NDArray actual, float tol, String what) {
    assertEquals(expected.getShape(), actual.getShape(), what + ": shape");
    float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
    float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
    float worst = 0;
    int at = -1;
    for (int i = 0; i < e.length; i++) {
      float d = Math.abs(e[i] - a[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    final int index = at;
    final float maxDiff = worst;
    assertTrue(
        maxDiff <= tol,
        () ->
            what
                + ": max |diff| "
                + maxDiff
                + " at flat index "
                + index
                + " (expected "
                + e[index]
                + ", got "
                + a[index]
                + ")");
  }

  private static NDList images(Map<String, NDArray> t) {
    return new NDList(t.get("image_0"), t.get("image_1"));
  }

  private static NDList targets(NDManager manager, Map<String, NDArray> t) {
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    boxes.add(t.get("target_boxes_0"));
    labels.add(t.get("target_labels_0"));
    boxes.add(manager.zeros(new Shape(0, 4), DataType.FLOAT32));
    labels.add(manager.zeros(new Shape(0), DataType.INT64));
    return Targets.pad(manager, boxes, labels);
  }

  @Test
  void transformMatchesTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> t = RcnnFixtures.load(manager, "transform.npz");
      ImageBatch batch = RcnnFixtures.transform().apply(images(t));
      long[] sizes = t.get("image_sizes").toLongArray();
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(
            new int[] {(int) sizes[2 * i], (int) sizes[2 * i + 1]},
            batch.imageSizes().get(i),
            "resized size of image " + i);
      }
      assertArrayEquals(new int[] {50, 70}, batch.originalSizes().get(0));
      assertClose(t.get("batch"), batch.tensor(), 1e-5f, "transformed batch");
    }
  }

  @Test
  void resizedSizeUsesTorchvisionFloat32Scale() {
    RcnnTransform transform = RcnnFixtures.transform();
    // 80 / 50 in torch is reciprocal(50) * 80 = 1.5999999 in float32, so 50 -> 79, not 80
    assertArrayEquals(new int[] {79, 111}, transform.resizedSize(50, 70));
    assertArrayEquals(new int[] {116, 80}, transform.resizedSize(64, 44));
    RcnnTransform defaults = RcnnTransform.builder().build();
    assertArrayEquals(new int[] {800, 1066}, defaults.resizedSize(480, 640));
    assertArrayEquals(new int[] {666, 1333}, defaults.resizedSize(500, 1000));
  }

  @ParameterizedTest
  @ValueSource(strings = {"two_level", "roipool"})
  void inferenceStagesMatchTorchvision(String name) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> t = RcnnFixtures.load(manager, "transform.npz");
      Map<String, NDArray> out = RcnnFixtures.load(manager, name + "_outputs.npz");
      FasterRcnn model = RcnnFixtures.build(name, false);
      RcnnFixtures.loadWeights(manager, model, name);
      ParameterStore ps = new ParameterStore(manager, false);

      ImageBatch batch = model.transform(images(t));
      NDList features = model.features(ps, batch, false);
      for (int l = 0; l < features.size(); l++) {
        assertClose(out.get("features_" + l), features.get(l), TOL, name + " features " + l);
      }

      RegionProposalNetwork.Output rpn =
          model
              .getRpn()
              .propose(
                  ps,
                  features,
                  batch.imageSizes(),
                  batch.paddedHeight(),
                  batch.paddedWidth(),
                  false,
                  null);
      assertClose(out.get("anchors"), rpn.anchors(), 0f, name + " anchors");
      List<NDArray> given = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        assertClose(
            out.get("proposals_" + i), rpn.proposals().get(i), TOL, name + " proposals " + i);
        assertClose(
            out.get("proposal_scores_" + i), rpn.scores().get(i), TOL, name + " scores " + i);
        given.add(out.get("proposals_" + i));
      }

      RoiHeads heads = model.getRoiHeads();
      NDArray pooled = heads.pool(features, given, batch.imageSizes());
      NDArray expectedPooled = out.get("box_features_head");
      long rows = expectedPooled.getShape().get(0);
      assertClose(expectedPooled, pooled.get(":" + rows), TOL, name + " pooled RoI features");
      NDList predicted = heads.predict(ps, pooled, false);
      assertClose(out.get("class_logits"), predicted.get(0), TOL, name + " class logits");
      assertClose(out.get("box_regression"), predicted.get(1), TOL, name + " box regression");

      List<Detections> detections = model.detect(ps, images(t));
      assertEquals(2, detections.size());
      for (int i = 0; i < 2; i++) {
        Detections d = detections.get(i);
        assertArrayEquals(
            out.get("det_labels_" + i).toLongArray(),
            d.labels().toLongArray(),
            name + " labels " + i);
        assertClose(out.get("det_boxes_" + i), d.boxes(), TOL, name + " boxes " + i);
        assertClose(out.get("det_scores_" + i), d.scores(), TOL, name + " det scores " + i);
      }
      // the inference forward returns the same in the Detections NDList form
      NDList flat = model.forward(ps, images(t), false);
      assertEquals(6, flat.size());
      assertClose(detections.get(1).boxes(), flat.get(3), 0f, name + " forward boxes");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"two_level", "roipool"})
  void trainingLossesMatchTorchvision(String name) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> t = RcnnFixtures.load(manager, "transform.npz");
      Map<String, NDArray> out = RcnnFixtures.load(manager, name + "_outputs.npz");
      FasterRcnn model = RcnnFixtures.build(name, true);
      RcnnFixtures.loadWeights(manager, model, name);
      ParameterStore ps = new ParameterStore(manager, false);
      NDList losses = model.forward(ps, images(t), targets(manager, t), null);
      String[] names = model.lossNames();
      assertEquals(4, losses.size());
      for (int i = 0; i < 4; i++) {
        NDArray loss = losses.get(i);
        assertEquals(names[i], loss.getName());
        assertEquals(new Shape(), loss.getShape(), names[i] + " is a scalar");
        assertClose(out.get(names[i]), loss, TOL, name + " " + names[i]);
      }
    }
  }

  /**
   * One backward pass of the summed training losses gives torchvision's gradient for every
   * parameter (take-all sampling): training updates the model as torchvision would, not only scores
   * it the same.
   */
  @ParameterizedTest
  @ValueSource(strings = {"two_level", "roipool"})
  void trainingGradientsMatchTorchvision(String name) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> t = RcnnFixtures.load(manager, "transform.npz");
      Map<String, NDArray> expected = RcnnFixtures.load(manager, name + "_grads.npz");
      FasterRcnn model = RcnnFixtures.build(name, true);
      RcnnFixtures.loadWeights(manager, model, name);
      Map<String, Parameter> params = TorchvisionNames.of(model);
      assertEquals(expected.keySet(), params.keySet(), name + ": parameter names");
      for (Parameter p : params.values()) {
        p.getArray().setRequiresGradient(true);
      }
      ParameterStore ps = new ParameterStore(manager, false);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images(t), targets(manager, t), null);
        NDArray total = losses.get(0).add(losses.get(1)).add(losses.get(2)).add(losses.get(3));
        gc.backward(total);
      }
      float largest = 0;
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray want = expected.get(e.getKey());
        NDArray got = e.getValue().getArray().getGradient();
        assertClose(want, got.reshape(want.getShape()), GRAD_TOL, name + " grad " + e.getKey());
        largest = Math.max(largest, want.abs().max().getFloat());
      }
      // the fixture is not trivially zero: real gradients reach the parameters
      assertTrue(largest > 1e-3f, name + ": largest torchvision gradient " + largest);
    }
  }
}
