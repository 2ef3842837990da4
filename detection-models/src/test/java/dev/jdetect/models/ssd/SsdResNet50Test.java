package dev.jdetect.models.ssd;

import static dev.jdetect.models.backbone.BackboneTestSupport.arrays;
import static dev.jdetect.models.backbone.BackboneTestSupport.assertClose;
import static dev.jdetect.models.backbone.BackboneTestSupport.countParameters;
import static dev.jdetect.models.backbone.BackboneTestSupport.loadWeights;
import static dev.jdetect.models.backbone.BackboneTestSupport.properties;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.weights.TorchvisionNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** SSD300 on ResNet-50 (NVIDIA design) against a PyTorch reference built by the generator. */
class SsdResNet50Test {

  @Test
  void fullSizeStructureMatchesTheReference() throws IOException {
    Properties full = properties("/fixtures/ssdlite/full_size.properties");
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd model = SsdResNet50.ssd300(80);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 300, 300));
      assertEquals(
          Long.parseLong(full.getProperty("ssd300_resnet50.81.params")), countParameters(model));
      SsdResNet50 ext = (SsdResNet50) model.backbone();
      assertArrayEquals(new int[] {1024, 512, 512, 256, 256, 256}, ext.outChannels());
      Shape[] maps = ext.getOutputShapes(new Shape[] {new Shape(1, 3, 300, 300)});
      StringBuilder ms = new StringBuilder();
      List<Shape> hw = new ArrayList<>();
      for (int i = 0; i < maps.length; i++) {
        ms.append(i == 0 ? "" : ",").append(maps[i].get(2));
        hw.add(new Shape(maps[i].get(2), maps[i].get(3)));
        assertEquals(ext.outChannels()[i], maps[i].get(1));
      }
      assertEquals(full.getProperty("ssd300_resnet50.maps"), ms.toString());
      assertEquals(8732, model.anchorGenerator().generate(manager, hw, 300, 300).getShape().get(0));

      Set<String> names = TorchvisionNames.of(model).keySet();
      for (String n :
          List.of(
              "backbone.features.conv1.weight",
              "backbone.features.layer3.0.downsample.0.weight",
              "backbone.features.layer3.5.bn3.running_var",
              "backbone.extra.0.0.weight",
              "backbone.extra.4.4.bias",
              "head.classification_head.module_list.0.weight",
              "head.regression_head.module_list.5.bias")) {
        assertTrue(names.contains(n), n);
      }
      assertTrue(names.stream().noneMatch(n -> n.contains("layer4")));
    }
  }

  @Test
  void extraBlocksMatchTheReference() throws IOException {
    String dir = "/fixtures/backbone/";
    for (String kind : new String[] {"down", "valid"}) {
      try (NDManager manager = NDManager.newBaseManager()) {
        Map<String, NDArray> io = arrays(manager, dir + "ssd_resnet_extra_" + kind + "_io.npz");
        SequentialBlock blk = SsdResNet50.extraBlock(16, 24, kind.equals("down"));
        blk.initialize(manager, DataType.FLOAT32, io.get("input").getShape());
        loadWeights(manager, blk, dir + "ssd_resnet_extra_" + kind + "_weights.npz", "");
        NDArray y =
            blk.forward(new ParameterStore(manager, false), new NDList(io.get("input")), false)
                .singletonOrThrow();
        assertClose(io.get("output"), y, 1e-4f, "extra " + kind);
      }
    }
  }

  @Test
  void trainsOneStepWithFiniteLosses() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(1);
      Ssd model = SsdResNet50.ssd300(3);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 300, 300));
      ParameterStore ps = new ParameterStore(manager, false);
      // batch 2: the last extra map is 1x1, and batch norm needs > 1 value per channel to train
      NDArray images = manager.randomUniform(0, 1, new Shape(2, 3, 300, 300));
      NDList targets =
          dev.jdetect.models.Targets.pad(
              manager,
              List.of(
                  manager.create(new float[] {30, 40, 200, 260}, new Shape(1, 4)),
                  manager.zeros(new Shape(0, 4))),
              List.of(manager.create(new long[] {3}), manager.create(new long[0])));
      NDList losses = model.forward(ps, new NDList(images), targets, null);
      assertEquals(2, losses.size());
      for (NDArray l : losses) {
        assertTrue(Float.isFinite(l.getFloat()) && l.getFloat() > 0, l.getName());
      }
    }
  }
}
