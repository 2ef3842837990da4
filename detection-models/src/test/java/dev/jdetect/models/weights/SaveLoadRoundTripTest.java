package dev.jdetect.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.models.ssd.VggFeatureExtractor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DJL's own parameter format round-trips an SSD: same parameters, same outputs. */
class SaveLoadRoundTripTest {

  private static Ssd small() {
    return Ssd.builder()
        .setBackbone(
            VggFeatureExtractor.builder()
                .optWidths(4, 4, 4, 8, 8)
                .optFcChannels(8)
                .optExtras(
                    List.of(
                        VggFeatureExtractor.ExtraLayer.of(4, 8, 3, 2, 1),
                        VggFeatureExtractor.ExtraLayer.of(4, 8, 3, 2, 1),
                        VggFeatureExtractor.ExtraLayer.of(4, 8, 3, 1, 0),
                        VggFeatureExtractor.ExtraLayer.of(4, 8, 3, 1, 0)))
                .build())
        .setNumClasses(2)
        .setAnchorGenerator(DefaultBoxGenerator.ssd300())
        .setTransform(SsdModels.vggTransform(300))
        .build();
  }

  @Test
  void modelSaveAndLoadKeepParametersAndOutputs(@TempDir Path dir) throws Exception {
    Shape input = new Shape(1, 3, 300, 300);
    try (Model saved = Model.newInstance("ssd");
        Model loaded = Model.newInstance("ssd")) {
      Ssd a = small();
      saved.setBlock(a);
      a.initialize(saved.getNDManager(), DataType.FLOAT32, input);
      saved.save(dir, "ssd");

      Ssd b = small();
      loaded.setBlock(b);
      loaded.load(dir, "ssd");

      Map<String, Parameter> pa = TorchvisionNames.of(a);
      Map<String, Parameter> pb = TorchvisionNames.of(b);
      assertEquals(pa.keySet(), pb.keySet());
      for (String name : pa.keySet()) {
        assertArrayEquals(
            pa.get(name).getArray().toFloatArray(),
            pb.get(name).getArray().toFloatArray(),
            0f,
            name);
      }
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray images = m.randomUniform(0, 1, new Shape(1, 3, 48, 64));
        NDList ra = a.forwardHeads(new ParameterStore(m, false), images, false);
        NDList rb = b.forwardHeads(new ParameterStore(m, false), images, false);
        assertArrayEquals(ra.get(0).toFloatArray(), rb.get(0).toFloatArray(), 0f);
        assertArrayEquals(ra.get(1).toFloatArray(), rb.get(1).toFloatArray(), 0f);
      }
    }
  }

  @Test
  void blockParameterStreamRoundTrip() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Ssd a = small();
      a.initialize(m, DataType.FLOAT32, new Shape(1, 3, 300, 300));
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream os = new DataOutputStream(bytes)) {
        a.saveParameters(os);
      }
      Ssd b = small();
      try (DataInputStream is =
          new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
        b.loadParameters(m, is);
      }
      Map<String, Parameter> pa = TorchvisionNames.of(a);
      Map<String, Parameter> pb = TorchvisionNames.of(b);
      for (String name : pa.keySet()) {
        assertArrayEquals(
            pa.get(name).getArray().toFloatArray(),
            pb.get(name).getArray().toFloatArray(),
            0f,
            name);
      }
      assertEquals(20f, pb.get("backbone.scale_weight").getArray().max().getFloat(), 0f);
    }
  }
}
