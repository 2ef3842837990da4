package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.weights.StateDict;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The small VGG-like SSD of src/fixtures/gen_models_ssd.py, and fixture loading. */
final class SmallSsd {

  static final int NUM_CLASSES = 3;

  private SmallSsd() {}

  static VggFeatureExtractor backbone() {
    return VggFeatureExtractor.builder()
        .setWidths(4, 8, 8, 16, 16)
        .setFcChannels(24)
        .setExtras(
            List.of(
                VggFeatureExtractor.ExtraLayer.of(8, 16, 3, 2, 1),
                VggFeatureExtractor.ExtraLayer.of(8, 12, 3, 2, 1),
                VggFeatureExtractor.ExtraLayer.of(8, 12, 3, 1, 0),
                VggFeatureExtractor.ExtraLayer.of(8, 12, 3, 1, 0)))
        .build();
  }

  static Ssd model() {
    return Ssd.builder()
        .setBackbone(backbone())
        .setNumClasses(NUM_CLASSES)
        .setAnchorGenerator(DefaultBoxGenerator.ssd300())
        .setTransform(SsdModels.vggTransform(300))
        // torchvision 0.14.1 mines no negatives in an image without objects
        .setLoss(MultiBoxLoss.builder().setMinNegatives(0).build())
        .build();
  }

  static Map<String, NDArray> npz(NDManager manager, String resource) {
    try (InputStream is = SmallSsd.class.getResourceAsStream(resource)) {
      if (is == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      Map<String, NDArray> map = new LinkedHashMap<>();
      for (NDArray a : NDList.decode(manager, is)) {
        map.put(a.getName(), a);
      }
      return map;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static StateDict weights(NDManager manager) {
    return StateDict.of(npz(manager, "/fixtures/ssd/ssd_small_weights.npz"));
  }

  static NDArray images(Map<String, NDArray> io) {
    return io.get("images_u8").toType(DataType.FLOAT32, false).div(255f);
  }
}
