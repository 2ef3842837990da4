package dev.jdetect.models.ssd;

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
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.weights.WeightImport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * torchvision's SSD (small VGG-like backbone, real SSD300 priors) against ours on the same weights:
 * head outputs, default boxes, training losses and detections. Fixture: gen_models_ssd.py.
 */
class SsdTorchvisionFixtureTest {

  private static NDManager manager;
  private static Map<String, NDArray> io;
  private static Ssd model;
  private static NDArray images;
  private static ParameterStore ps;

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
    io = SmallSsd.npz(manager, "/fixtures/ssd/ssd_small_io.npz");
    images = SmallSsd.images(io);
    model = SmallSsd.model();
    model.initialize(manager, DataType.FLOAT32, images.getShape());
    ImportReport report = WeightImport.load(model, SmallSsd.weights(manager));
    assertTrue(report.isComplete(), report.toString());
    ps = new ParameterStore(manager, false);
  }

  @AfterAll
  static void tearDown() {
    manager.close();
  }

  @Test
  void headOutputsMatchTorchvision() {
    try (NDManager scope = manager.newSubManager()) {
      NDList raw = model.forwardHeads(ps, images, false);
      raw.attach(scope);
      NDArray cls = raw.get(0);
      NDArray box = raw.get(1);
      long numAnchors = io.get("num_anchors").getLong();
      assertEquals(new Shape(3, numAnchors, SmallSsd.NUM_CLASSES + 1), cls.getShape());
      assertEquals(new Shape(3, numAnchors, 4), box.getShape());
      NDArray rows = io.get("head_rows");
      assertClose(io.get("cls_logits"), cls.get(":, {}", rows), 1e-4f, "cls_logits");
      assertClose(io.get("bbox_regression"), box.get(":, {}", rows), 1e-4f, "bbox_regression");
      double[] clsSum = io.get("head_cls_sum").toDoubleArray();
      double[] boxSum = io.get("head_box_sum").toDoubleArray();
      for (int i = 0; i < 3; i++) {
        double c = cls.get(i).toType(DataType.FLOAT64, false).sum().getDouble();
        double b = box.get(i).toType(DataType.FLOAT64, false).sum().getDouble();
        assertEquals(clsSum[i], c, 1e-4 * numAnchors, "cls sum image " + i);
        assertEquals(boxSum[i], b, 1e-4 * numAnchors, "box sum image " + i);
      }
    }
  }

  @Test
  void defaultBoxesMatchTorchvision() {
    try (NDManager scope = manager.newSubManager()) {
      NDList raw = model.forwardHeads(ps, images, false);
      raw.attach(scope);
      NDArray anchors = raw.get(2);
      assertEquals(8732, anchors.getShape().get(0));
      assertEquals(io.get("num_anchors").getLong(), anchors.getShape().get(0));
      assertClose(io.get("anchors"), anchors.get(io.get("anchor_rows")), 1e-6f, "anchors");
    }
  }

  @Test
  void trainingLossesMatchTorchvision() {
    try (NDManager scope = manager.newSubManager()) {
      NDList targets = targets(scope);
      NDList losses = model.forward(ps, new NDList(images), targets, null);
      losses.attach(scope);
      assertEquals(2, losses.size());
      assertEquals(MultiBoxLoss.BOX_LOSS, losses.get(0).getName());
      assertEquals(MultiBoxLoss.CLASS_LOSS, losses.get(1).getName());
      assertEquals(io.get("loss_bbox_regression").getFloat(), losses.get(0).getFloat(), 1e-4f);
      assertEquals(io.get("loss_classification").getFloat(), losses.get(1).getFloat(), 1e-4f);
    }
  }

  /**
   * One backward pass gives torchvision's gradient for every parameter (on the generator's hashed
   * 300x300 images: upsampled images make near-flat max-pool windows whose arg-max may flip with
   * float rounding).
   */
  @Test
  void trainingGradientsMatchTorchvision() {
    try (NDManager scope = manager.newSubManager()) {
      Map<String, NDArray> want = SmallSsd.npz(scope, "/fixtures/ssd/ssd_small_grads.npz");
      Ssd fresh = SmallSsd.model();
      fresh.initialize(scope, DataType.FLOAT32, images.getShape());
      WeightImport.load(fresh, SmallSsd.weights(scope));
      Map<String, Parameter> params = TorchvisionNames.of(fresh);
      assertEquals(want.keySet(), params.keySet());
      for (Parameter p : params.values()) {
        p.getArray().setRequiresGradient(true);
      }
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray hashed = SmallSsd.hashedImages(scope, 3, 300, 300);
        NDList losses =
            fresh.forward(
                new ParameterStore(scope, false), new NDList(hashed), targets(scope), null);
        gc.backward(losses.get(0).add(losses.get(1)));
      }
      float largest = 0;
      for (Map.Entry<String, Parameter> e : params.entrySet()) {
        NDArray w = want.get(e.getKey());
        NDArray g = e.getValue().getArray().getGradient().reshape(w.getShape());
        // relative to the largest entry: the first layer sums ~270 000 products of both signs
        float scale = Math.max(1f, w.abs().max().getFloat());
        assertClose(w, g, 1e-4f * scale, "grad " + e.getKey());
        largest = Math.max(largest, w.abs().max().getFloat());
      }
      assertTrue(largest > 1e-3f, "largest torchvision gradient " + largest);
    }
  }

  @Test
  void detectionsMatchTorchvision() {
    try (NDManager scope = manager.newSubManager()) {
      NDList out = model.forward(ps, new NDList(images), false);
      out.attach(scope);
      List<Detections> dets = Detections.fromNDList(out);
      assertEquals(3, dets.size());
      for (int i = 0; i < 3; i++) {
        Detections d = dets.get(i);
        long[] wantLabels = io.get("det_labels_" + i).toLongArray();
        float[] wantScores = io.get("det_scores_" + i).toFloatArray();
        float[] wantBoxes = io.get("det_boxes_" + i).toFloatArray();
        assertEquals(wantLabels.length, d.size(), "detections of image " + i);
        assertArrayEquals(wantLabels, d.labels().toLongArray(), "labels of image " + i);
        float[] scores = d.scores().toFloatArray();
        float[] boxes = d.boxes().toFloatArray();
        for (int k = 0; k < scores.length; k++) {
          assertEquals(wantScores[k], scores[k], 1e-4f, "score " + k + " of image " + i);
        }
        for (int k = 0; k < boxes.length; k++) {
          assertEquals(wantBoxes[k], boxes[k], 1e-4f, "box value " + k + " of image " + i);
        }
      }
    }
  }

  @Test
  void weightFileLoadsLikeTheInMemoryStateDict() throws Exception {
    try (NDManager scope = manager.newSubManager()) {
      Ssd other = SmallSsd.model();
      other.initialize(scope, DataType.FLOAT32, images.getShape());
      Path file = Path.of(getClass().getResource("/fixtures/ssd/ssd_small_weights.npz").toURI());
      ImportReport report = WeightImport.load(other, file);
      assertEquals(71, report.loaded().size());
      Map<String, Parameter> want = TorchvisionNames.of(model);
      Map<String, Parameter> got = TorchvisionNames.of(other);
      assertEquals(want.keySet(), got.keySet());
      for (String name : want.keySet()) {
        assertArrayEquals(
            want.get(name).getArray().toFloatArray(),
            got.get(name).getArray().toFloatArray(),
            0f,
            name);
      }
    }
  }

  static NDList targets(NDManager m) {
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      boxes.add(io.get("boxes_" + i));
      labels.add(io.get("labels_" + i));
    }
    return Targets.pad(m, boxes, labels);
  }

  private static void assertClose(NDArray want, NDArray got, float tol, String what) {
    assertEquals(want.getShape(), got.getShape(), what + " shape");
    float[] w = want.toFloatArray();
    float[] g = got.toFloatArray();
    float worst = 0;
    int at = -1;
    for (int i = 0; i < w.length; i++) {
      float d = Math.abs(w[i] - g[i]);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    assertTrue(worst <= tol, what + ": max abs diff " + worst + " at flat index " + at);
  }
}
