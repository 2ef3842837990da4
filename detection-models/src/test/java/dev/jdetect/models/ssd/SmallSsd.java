package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
        .optWidths(4, 8, 8, 16, 16)
        .optFcChannels(24)
        .optExtras(
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
        .optLoss(MultiBoxLoss.builder().optMinNegatives(0).build())
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

  /**
   * {@code (n, 3, h, w)} images in [0, 1] from the generator's {@code hashed_images}: pixel {@code
   * (i, c, y, x)} is the top byte of murmur3's finaliser applied to its flat index times {@code
   * 0x9E3779B1}, divided by 255.
   */
  static NDArray hashedImages(NDManager manager, int n, int h, int w) {
    float[] pixels = new float[n * 3 * h * w];
    for (int flat = 0; flat < pixels.length; flat++) {
      long key = (flat * 0x9E3779B1L) & 0xFFFFFFFFL;
      key ^= key >>> 16;
      key = (key * 0x85EBCA6BL) & 0xFFFFFFFFL;
      key ^= key >>> 13;
      key = (key * 0xC2B2AE35L) & 0xFFFFFFFFL;
      key ^= key >>> 16;
      pixels[flat] = (key >>> 24) / 255f;
    }
    return manager.create(pixels, new Shape(n, 3, h, w));
  }
}
