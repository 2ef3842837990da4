package dev.jdetect.models.ssd;

import static dev.jdetect.models.backbone.BackboneTestSupport.arrays;
import static dev.jdetect.models.backbone.BackboneTestSupport.assertClose;
import static dev.jdetect.models.backbone.BackboneTestSupport.loadWeights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * TinySSD against the book's PyTorch code (Dive into Deep Learning: {@code TinySSD}, {@code
 * multibox_prior}, {@code multibox_target}, {@code calc_loss}, {@code multibox_detection}) at
 * reduced widths, on the same seeded weights; fixture from {@code
 * src/fixtures/gen_models_backbones.py}.
 */
class TinySsdFixtureTest {

  private static final String DIR = "/fixtures/tinyssd/";

  @Test
  void matchesTheBookImplementation() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Map<String, NDArray> io = arrays(manager, DIR + "tinyssd_small_io.npz");
      NDArray x = io.get("input");
      Ssd model = TinySsd.builder().setNumClasses(2).optChannels(new int[] {8, 16, 16}, 16).build();
      model.initialize(manager, DataType.FLOAT32, x.getShape());
      loadWeights(manager, model, DIR + "tinyssd_small_weights.npz", "");
      ParameterStore ps = new ParameterStore(manager, false);

      // raw outputs and anchors (eval mode); the book's anchors are relative to the input size
      NDList raw = model.forwardHeads(ps, x, false);
      NDArray scale = manager.create(new float[] {96, 64, 96, 64});
      assertClose(io.get("anchors"), raw.get(2).div(scale), 1e-6f, "anchors");
      assertClose(io.get("cls_preds"), raw.get(0), 1e-4f, "cls_preds");
      assertClose(io.get("bbox_preds"), raw.get(1), 1e-4f, "bbox_preds");

      // multibox_detection
      List<Detections> dets = Detections.fromNDList(model.forward(ps, new NDList(x), false));
      for (int i = 0; i < 2; i++) {
        NDArray ref = io.get("det" + i);
        Detections d = dets.get(i);
        assertEquals(ref.getShape().get(0), d.size(), "detections of image " + i);
        long[] labels = ref.get(":, 0").toType(DataType.INT64, false).add(1).toLongArray();
        assertArrayEquals(labels, d.labels().toLongArray(), "labels of image " + i);
        assertClose(ref.get(":, 1"), d.scores(), 1e-4f, "scores " + i);
        NDArray refBoxes = Boxes.clip(ref.get(":, 2:").mul(scale), 64, 96);
        assertClose(refBoxes, d.boxes(), 1e-4f, "boxes " + i);
      }

      // multibox_target labels and calc_loss (training-mode batch norm)
      NDList targets =
          new NDList(
              io.get("target_boxes"), io.get("target_classes").toType(DataType.INT64, false));
      D2lLoss.AnchorLabels labelled = new D2lLoss(0.5f).label(raw.get(2), Targets.unpad(targets));
      assertArrayEquals(
          io.get("cls_labels").toType(DataType.INT64, false).toLongArray(),
          labelled.classes().toLongArray());
      NDList losses = model.forward(ps, new NDList(x), targets, null);
      assertEquals(io.get("loss_box").getFloat(), losses.get(0).getFloat(), 1e-4f);
      assertEquals(io.get("loss_cls").getFloat(), losses.get(1).getFloat(), 1e-4f);
    }
  }
}
