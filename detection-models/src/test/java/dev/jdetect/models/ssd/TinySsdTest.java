package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import ai.djl.util.Pair;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.weights.TorchvisionNames;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** TinySSD (D2L): shapes, anchors, D2L labelling and loss, training steps, inference. */
class TinySsdTest {

  /** D2L "Anchor Boxes" worked example: 5 anchors, 2 ground truths (relative coordinates). */
  private static final float[] D2L_ANCHORS = {
    0f, 0.1f, 0.2f, 0.3f, 0.15f, 0.2f, 0.4f, 0.4f, 0.63f, 0.05f, 0.88f, 0.98f, 0.66f, 0.45f, 0.8f,
    0.8f, 0.57f, 0.3f, 0.92f, 0.9f
  };

  private static final float[] D2L_GT = {0.1f, 0.08f, 0.52f, 0.92f, 0.55f, 0.2f, 0.9f, 0.88f};

  /** torch reference of D2L's offset_boxes * bbox_mask on that example. */
  private static final float[] D2L_OFFSETS = {
    0f, 0f, 0f, 0f, 1.3999999f, 9.999999f, 2.5939717f, 7.175424f, -1.1999989f, 0.26881757f,
    1.682364f, -1.5654519f, 0f, 0f, 0f, 0f, -0.571428f, -1.0000001f, 4.1723233e-06f, 0.6258204f
  };

  @Test
  void outputShapesAndAnchorCountAt256() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = TinySsd.builder().setNumClasses(1).build();
      Shape in = new Shape(2, 3, 256, 256);
      model.initialize(manager, DataType.FLOAT32, in);
      assertArrayEquals(new int[] {4, 4, 4, 4, 4}, model.anchorGenerator().numAnchorsPerLocation());
      Shape[] declared = headShapes(model, in);
      assertEquals(new Shape(2, 5444, 2), declared[0]);
      assertEquals(new Shape(2, 5444, 4), declared[1]);
      NDList raw =
          model.forwardHeads(
              new ParameterStore(manager, false), manager.randomUniform(0, 1, in), false);
      assertEquals(new Shape(2, 5444, 2), raw.get(0).getShape());
      assertEquals(new Shape(2, 5444, 4), raw.get(1).getShape());
      assertEquals(new Shape(5444, 4), raw.get(2).getShape());
      // anchors in input pixels; relative to the 256x256 input they are D2L's
      NDArray relative = raw.get(2).div(256f);
      // first anchor: pixel (0, 0) of the 32x32 map, size 0.2, ratio 1
      float c = 0.5f / 32;
      assertArrayEquals(
          new float[] {c - 0.1f, c - 0.1f, c + 0.1f, c + 0.1f},
          relative.get(0).toFloatArray(),
          1e-6f);
      // last anchor: the global scale (1x1), size 0.88 ratio 0.5 -> w = 0.88 * sqrt(.5)
      float w = (float) (0.88 * Math.sqrt(0.5));
      float h = (float) (0.88 / Math.sqrt(0.5));
      assertArrayEquals(
          new float[] {0.5f - w / 2, 0.5f - h / 2, 0.5f + w / 2, 0.5f + h / 2},
          relative.get(5443).toFloatArray(),
          1e-6f);

      Ssd three = TinySsd.builder().setNumClasses(3).build();
      assertEquals(new Shape(1, 5444, 4), headShapes(three, new Shape(1, 3, 256, 256))[0]);
    }
  }

  /** The declared shapes of the head outputs for an input shape. */
  private static Shape[] headShapes(Ssd model, Shape in) {
    return model.head().getOutputShapes(model.backbone().getOutputShapes(new Shape[] {in}));
  }

  @Test
  void anchorsFollowTheInputSizeFromCallToCall() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = TinySsd.builder().setNumClasses(1).optChannels(new int[] {4, 4, 4}, 4).build();
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      ParameterStore ps = new ParameterStore(manager, false);
      // 64x64: maps 8x8, 4x4, 2x2, 1x1, 1x1 -> 86 cells; 64x96: 8x12, 4x6, 2x3, 1x1, 1x1 -> 128
      long[] expected = {344, 512, 344};
      int[] widths = {64, 96, 64};
      for (int i = 0; i < widths.length; i++) {
        NDArray images = manager.zeros(new Shape(1, 3, 64, widths[i]));
        NDArray anchors = model.forwardHeads(ps, images, false).get(2);
        assertEquals(new Shape(expected[i], 4), anchors.getShape(), "input width " + widths[i]);
        if (widths[i] == 96) {
          // cell (0, 0) of the 8x12 map, centre (4, 4) px; size 0.2: 0.2 * 64 = 12.8 px square
          assertArrayEquals(
              new float[] {-2.4f, -2.4f, 10.4f, 10.4f}, anchors.get(0).toFloatArray(), 1e-4f);
        }
      }
    }
  }

  @Test
  void childNamesFollowD2lAttributes() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = TinySsd.builder().setNumClasses(2).build();
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      Set<String> names = TorchvisionNames.of(model).keySet();
      for (String n :
          List.of(
              "blk_0.0.0.weight",
              "blk_0.0.1.running_var",
              "blk_0.2.3.weight",
              "blk_0.2.4.bias",
              "blk_1.0.weight",
              "blk_3.4.weight",
              "cls_0.weight",
              "cls_4.bias",
              "bbox_4.weight")) {
        assertTrue(names.contains(n), n + " in " + names);
      }
      assertEquals(
          new Shape(12, 64, 3, 3),
          TorchvisionNames.of(model).get("cls_0.weight").getArray().getShape());
    }
  }

  @Test
  void d2lAssignmentAndOffsetsMatchTheBookExample() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray anchors = manager.create(D2L_ANCHORS, new Shape(5, 4));
      NDArray gt = manager.create(D2L_GT, new Shape(2, 4));
      long[] map = TinySsdTargets.assign(Boxes.iou(anchors, gt), 0.5f);
      assertArrayEquals(new long[] {-1, 0, 1, -1, 1}, map);

      // the same through the loss, anchors and targets in pixels of a 200x100 (w x h) image
      NDArray scale = manager.create(new float[] {200, 100, 200, 100});
      NDList targets =
          Targets.pad(
              manager,
              List.of(gt.mul(scale), manager.zeros(new Shape(0, 4))),
              List.of(manager.create(new long[] {1, 2}), manager.create(new long[0])));
      D2lLoss.AnchorLabels labelled =
          new D2lLoss(0.5f).label(anchors.mul(scale), Targets.unpad(targets));
      assertArrayEquals(
          new long[] {0, 1, 2, 0, 2, 0, 0, 0, 0, 0}, labelled.classes().toLongArray());
      assertArrayEquals(D2L_OFFSETS, labelled.offsets().get(0).toFloatArray(), 1e-4f);
      assertArrayEquals(new float[20], labelled.offsets().get(1).toFloatArray(), 0f);
      // anchors 1, 2 and 4 are assigned
      float[] mask = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1};
      assertArrayEquals(mask, labelled.mask().get(0).toFloatArray(), 0f);
      assertArrayEquals(new float[20], labelled.mask().get(1).toFloatArray(), 0f);

      // decode inverts encode
      NDArray assigned = gt.get(manager.create(new long[] {0, 1, 1}));
      NDArray some = anchors.get("1:4");
      NDArray round = TinySsdTargets.decode(some, TinySsdTargets.encode(some, assigned));
      assertArrayEquals(assigned.toFloatArray(), round.toFloatArray(), 1e-5f);
    }
  }

  @Test
  void greedyAssignmentGivesEveryGroundTruthAnAnchor() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // GT 1's best anchor (0) is also GT 0's best: the greedy pass gives anchor 0 to the
      // larger IoU (GT 0, 0.9) and GT 1 its next best anchor (1, 0.3) below the threshold.
      NDArray iou =
          manager.create(new float[] {0.9f, 0.6f, 0.2f, 0.3f, 0.1f, 0.05f}, new Shape(3, 2));
      assertArrayEquals(new long[] {0, 1, -1}, TinySsdTargets.assign(iou, 0.5f));
      assertArrayEquals(
          new long[] {-1, -1}, TinySsdTargets.assign(manager.zeros(new Shape(2, 0)), 0.5f));
    }
  }

  @Test
  void d2lLossOnAHandCase() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // N=1, A=2, 2 columns; anchor 0 positive (class 1), anchor 1 background
      NDArray cls =
          manager.create(new float[] {0f, 0f, (float) Math.log(3), 0f}, new Shape(1, 2, 2));
      NDArray box = manager.create(new float[] {1, 2, 3, 4, 5, 5, 5, 5}, new Shape(1, 2, 4));
      NDArray labels = manager.create(new long[] {1, 0}, new Shape(1, 2));
      NDArray offsets = manager.create(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, new Shape(1, 2, 4));
      NDArray mask = manager.create(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, new Shape(1, 2, 4));
      NDList loss = TinySsdTargets.d2lLoss(cls, box, labels, offsets, mask);
      double ce = (Math.log(2) - Math.log(0.75)) / 2;
      assertEquals(ce, loss.get(0).getFloat(), 1e-6);
      assertEquals((0 + 1 + 2 + 3) / 8.0, loss.get(1).getFloat(), 1e-6);
      // batch mean: a second image with zero loss halves both terms
      NDArray cls2 = manager.create(new float[] {0f, 0f, 0f, 0f}, new Shape(1, 2, 2));
      NDArray zero = manager.zeros(new Shape(1, 2, 4));
      NDList two =
          TinySsdTargets.d2lLoss(
              cls.concat(cls2, 0),
              box.concat(zero, 0),
              labels.concat(labels, 0),
              offsets.concat(zero, 0),
              mask.concat(zero, 0));
      assertEquals((ce + Math.log(2)) / 2, two.get(0).getFloat(), 1e-6);
      assertEquals(0.75 / 2, two.get(1).getFloat(), 1e-6);
    }
  }

  private static NDList syntheticTargets(NDManager manager) {
    return Targets.pad(
        manager,
        List.of(
            manager.create(new float[] {8, 8, 40, 40, 30, 20, 60, 56}, new Shape(2, 4)),
            manager.create(new float[] {0, 10, 32, 60}, new Shape(1, 4)),
            manager.zeros(new Shape(0, 4))),
        List.of(
            manager.create(new long[] {1, 2}),
            manager.create(new long[] {2}),
            manager.create(new long[0])));
  }

  private static float trainSteps(Ssd model, NDManager manager, int steps, float[] first) {
    ParameterStore ps = new ParameterStore(manager, false);
    NDArray images = manager.randomUniform(0, 1, new Shape(3, 3, 64, 64));
    NDList targets = syntheticTargets(manager);
    float last = Float.NaN;
    for (int step = 0; step <= steps; step++) {
      try (NDManager sub = manager.newSubManager()) {
        NDArray x = images.duplicate();
        x.attach(sub);
        NDList t = new NDList(targets.get(0).duplicate(), targets.get(1).duplicate());
        t.attach(sub);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.zeroGradients();
          NDList losses = model.forward(ps, new NDList(x), t, null);
          assertEquals("loss_bbox_regression", losses.get(0).getName());
          assertEquals("loss_classification", losses.get(1).getName());
          NDArray total = losses.get(0).add(losses.get(1));
          last = total.getFloat();
          assertTrue(Float.isFinite(last), "loss at step " + step);
          if (step == 0) {
            first[0] = last;
          }
          if (step < steps) {
            gc.backward(total);
          }
        }
        if (step < steps) {
          for (Pair<String, Parameter> p : model.getParameters()) {
            NDArray arr = p.getValue().getArray();
            if (arr.hasGradient()) {
              arr.subi(arr.getGradient().mul(0.05f));
            }
          }
        }
      }
    }
    return last;
  }

  @Test
  void sgdStepsReduceTheD2lLoss() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(7);
      Ssd model = TinySsd.builder().setNumClasses(2).optChannels(new int[] {8, 16, 32}, 32).build();
      model.initialize(manager, DataType.FLOAT32, new Shape(3, 3, 64, 64));
      float[] first = new float[1];
      float last = trainSteps(model, manager, 6, first);
      assertTrue(last < first[0] * 0.9f, "loss " + first[0] + " -> " + last);
    }
  }

  @Test
  void sgdStepsReduceTheMultiBoxLoss() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(11);
      Ssd model =
          TinySsd.builder()
              .setNumClasses(2)
              .optChannels(new int[] {8, 16, 32}, 32)
              .optLossType(TinySsd.LossType.MULTIBOX)
              .build();
      model.initialize(manager, DataType.FLOAT32, new Shape(3, 3, 64, 64));
      float[] first = new float[1];
      float last = trainSteps(model, manager, 6, first);
      assertTrue(last < first[0] * 0.9f, "loss " + first[0] + " -> " + last);
    }
  }

  @Test
  void inferenceReturnsNmsFilteredDetectionsInPixels() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(3);
      Ssd model = TinySsd.builder().setNumClasses(3).build();
      model.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 64, 96));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray images = manager.randomUniform(0, 1, new Shape(2, 3, 64, 96));
      List<Detections> dets = Detections.fromNDList(model.forward(ps, new NDList(images), false));
      assertEquals(2, dets.size());
      for (Detections d : dets) {
        assertTrue(d.size() > 0);
        float[] b = d.boxes().toFloatArray();
        for (int i = 0; i < b.length; i += 4) {
          assertTrue(b[i] >= 0 && b[i + 2] <= 96 && b[i + 1] >= 0 && b[i + 3] <= 64);
        }
        float[] s = d.scores().toFloatArray();
        for (int i = 1; i < s.length; i++) {
          assertTrue(s[i] <= s[i - 1], "scores sorted");
        }
        assertTrue(s[s.length - 1] >= 0.0099f);
        for (long l : d.labels().toLongArray()) {
          assertTrue(l >= 1 && l <= 3, "label " + l);
        }
      }
      Ssd capped = TinySsd.builder().setNumClasses(3).optMaxDetections(5).build();
      capped.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      List<Detections> few =
          Detections.fromNDList(
              capped.forward(
                  ps, new NDList(manager.randomUniform(0, 1, new Shape(1, 3, 64, 64))), false));
      assertEquals(5, few.get(0).size());
    }
  }

  @Test
  void d2lPostProcessingOnAHandCase() {
    try (NDManager manager = NDManager.newBaseManager()) {
      // anchors 0 and 1 overlap (IoU 90 / 110), anchor 2 sticks out of the 32x32 input
      NDArray anchors =
          manager.create(new float[][] {{0, 0, 10, 10}, {1, 0, 11, 10}, {20, 20, 36, 30}});
      // softmax: anchor 0 (.25, .5, .25), anchor 1 (.2, .2, .6), anchor 2 (.4, .4, .2)
      float[] logits = {
        0, (float) Math.log(2), 0, 0, 0, (float) Math.log(3), 0, 0, (float) Math.log(0.5)
      };
      NDArray cls = manager.create(logits, new Shape(1, 3, 3));
      NDArray offsets = manager.zeros(new Shape(1, 3, 4));
      Detections d =
          new D2lPostProcessor(0.5f, 0.01f, -1)
              .process(cls, offsets, anchors, 32, 32, 32, 32)
              .get(0);
      // anchor 1 (best class 2, 0.6) suppresses anchor 0 (0.5); anchor 2 (class 1, 0.4) is clipped
      assertArrayEquals(new float[] {0.6f, 0.4f}, d.scores().toFloatArray(), 1e-6f);
      assertArrayEquals(new long[] {2, 1}, d.labels().toLongArray());
      assertArrayEquals(
          new float[] {1, 0, 11, 10, 20, 20, 32, 30}, d.boxes().toFloatArray(), 1e-5f);
      // score threshold and cap
      assertEquals(
          1,
          new D2lPostProcessor(0.5f, 0.5f, -1)
              .process(cls, offsets, anchors, 32, 32, 32, 32)
              .get(0)
              .size());
      assertEquals(
          1,
          new D2lPostProcessor(0.5f, 0.01f, 1)
              .process(cls, offsets, anchors, 32, 32, 32, 32)
              .get(0)
              .size());
      // without overlap suppression (IoU threshold above 90 / 110) all three stay, by score
      Detections all =
          new D2lPostProcessor(0.9f, 0.01f, -1)
              .process(cls, offsets, anchors, 32, 32, 32, 32)
              .get(0);
      assertArrayEquals(new float[] {0.6f, 0.5f, 0.4f}, all.scores().toFloatArray(), 1e-6f);
      assertArrayEquals(new long[] {2, 1, 1}, all.labels().toLongArray());
      // boxes scale to images given at another size (input 32x32, image 64 high, 96 wide)
      Detections scaled =
          new D2lPostProcessor(0.5f, 0.01f, -1)
              .process(cls, offsets, anchors, 32, 32, 64, 96)
              .get(0);
      assertArrayEquals(
          new float[] {3, 0, 33, 20, 60, 40, 96, 60}, scaled.boxes().toFloatArray(), 1e-4f);
    }
  }

  @Test
  void djlSaveAndLoadRoundTrip() throws java.io.IOException, ai.djl.MalformedModelException {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(9);
      Shape in = new Shape(1, 3, 64, 64);
      Ssd model = TinySsd.builder().setNumClasses(2).build();
      model.initialize(manager, DataType.FLOAT32, in);
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      model.saveParameters(new java.io.DataOutputStream(bytes));
      Ssd copy = TinySsd.builder().setNumClasses(2).build();
      copy.initialize(manager, DataType.FLOAT32, in);
      copy.loadParameters(
          manager,
          new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray x = manager.randomUniform(0, 1, in);
      assertArrayEquals(
          model.forwardHeads(ps, x, false).get(0).toFloatArray(),
          copy.forwardHeads(ps, x, false).get(0).toFloatArray(),
          0f);
    }
  }

  @Test
  void badInputIsRejected() {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = TinySsd.builder().setNumClasses(2).build();
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      ParameterStore ps = new ParameterStore(manager, false);
      IllegalArgumentException small =
          assertThrows(
              IllegalArgumentException.class,
              () -> model.forward(ps, new NDList(manager.zeros(new Shape(1, 3, 32, 64))), false));
      assertTrue(small.getMessage().contains("images"), small.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> model.forward(ps, new NDList(manager.zeros(new Shape(1, 1, 64, 64))), false));
      NDList badLabel =
          Targets.pad(
              manager,
              List.of(manager.create(new float[] {1, 1, 9, 9}, new Shape(1, 4))),
              List.of(manager.create(new long[] {3})));
      assertThrows(
          IllegalArgumentException.class,
          () ->
              model.forward(
                  ps, new NDList(manager.zeros(new Shape(1, 3, 64, 64))), badLabel, null));
      assertThrows(IllegalArgumentException.class, () -> TinySsd.builder().build());
    }
  }
}
