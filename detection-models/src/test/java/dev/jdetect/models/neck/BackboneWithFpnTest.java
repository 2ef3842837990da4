package dev.jdetect.models.neck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.backbone.ResNet50;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.testkit.NDManagerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NDManagerExtension.class)
class BackboneWithFpnTest {

  /** torchvision's resnet_fpn_backbone("resnet50") with LastLevelMaxPool, as Faster R-CNN uses. */
  @Test
  void resNet50FpnHasTorchvisionsLevelsAndNames(NDManager manager) throws IOException {
    ResNet50 body =
        ResNet50.builder().optFrozenBatchNorm(true).optReturnedLayers(1, 2, 3, 4).build();
    assertArrayEquals(new int[] {256, 512, 1024, 2048}, body.outChannels());
    assertArrayEquals(new int[] {4, 8, 16, 32}, body.strides());
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(body.outChannels())
            .setOutChannels(256)
            .optExtraBlocks(new LastLevelMaxPool())
            .build();
    BackboneWithFpn backbone = new BackboneWithFpn(body, fpn);
    assertArrayEquals(new int[] {256, 256, 256, 256, 256}, backbone.outChannels());
    assertArrayEquals(new int[] {4, 8, 16, 32, 64}, backbone.strides());

    Shape input = new Shape(1, 3, 64, 96);
    backbone.initialize(manager, DataType.FLOAT32, input);
    Shape[] shapes = backbone.getOutputShapes(new Shape[] {input});
    NDList out =
        backbone.forward(
            new ParameterStore(manager, false),
            new NDList(manager.randomUniform(0, 1, input)),
            false);
    assertEquals(5, out.size());
    long[][] sizes = {{16, 24}, {8, 12}, {4, 6}, {2, 3}, {1, 2}};
    for (int i = 0; i < 5; i++) {
      Shape want = new Shape(1, 256, sizes[i][0], sizes[i][1]);
      assertEquals(want, out.get(i).getShape(), "level " + i);
      assertEquals(want, shapes[i], "predicted level " + i);
    }
    // every state_dict entry of torchvision 0.14.1's resnet_fpn_backbone("resnet50"), in order
    List<String> want;
    try (InputStream in = getClass().getResourceAsStream("/fixtures/fpn/resnet50_fpn_names.txt")) {
      want = List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
    }
    List<String> got = new ArrayList<>();
    for (Map.Entry<String, Parameter> e : TorchvisionNames.of(backbone).entrySet()) {
      long[] dims = e.getValue().getArray().getShape().getShape();
      StringBuilder line = new StringBuilder(e.getKey()).append(' ');
      for (int d = 0; d < dims.length; d++) {
        line.append(d == 0 ? "" : ",").append(dims[d]);
      }
      got.add(line.toString());
    }
    assertEquals(want, got);
  }

  @Test
  void channelMismatchIsRefused() {
    ResNet50 body = ResNet50.builder().optReturnedLayers(2, 3, 4).build();
    FeaturePyramidNetwork fpn =
        FeaturePyramidNetwork.builder()
            .setInChannels(256, 512, 1024, 2048)
            .setOutChannels(256)
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new BackboneWithFpn(body, fpn));
    assertTrue(e.getMessage().contains("[512, 1024, 2048]"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> ResNet50.builder().optReturnedLayers(3, 2).build());
  }
}
