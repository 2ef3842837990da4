package dev.jdetect.train.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.train.data.DetectionSample;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Compares the colour steps of {@link PhotometricDistort} and {@link Resize} with
 * torchvision.transforms.functional (fixture from {@code src/fixtures/gen_train.py}).
 */
class TorchvisionReferenceTest {

  private NDManager manager;
  private Map<String, NDArray> ref;

  @BeforeEach
  void setUp() throws Exception {
    manager = NDManager.newBaseManager();
    try (InputStream in = getClass().getResourceAsStream("/fixtures/augment/photometric.npz")) {
      assertNotNull(in, "fixture missing");
      NDList list = NDList.decode(manager, in);
      ref = new HashMap<>();
      for (NDArray a : list) {
        ref.put(a.getName(), a);
      }
    }
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  private float[] image() {
    return ref.get("image").toFloatArray();
  }

  @Test
  void colourStepsMatchTorchvision() {
    int plane = 60;
    float[][] cases = {{0.1f}, {-0.3f}, {0.5f}};
    String[] hueNames = {"hue_p10", "hue_m30", "hue_p50"};
    for (int i = 0; i < cases.length; i++) {
      float[] px = image();
      PhotometricDistort.adjustHue(px, plane, cases[i][0]);
      assertArrayEquals(ref.get(hueNames[i]).toFloatArray(), px, 1e-5f, hueNames[i]);
    }
    float[] sat = image();
    PhotometricDistort.adjustSaturation(sat, plane, 0.3f);
    assertArrayEquals(ref.get("sat_030").toFloatArray(), sat, 1e-5f);
    sat = image();
    PhotometricDistort.adjustSaturation(sat, plane, 1.7f);
    assertArrayEquals(ref.get("sat_170").toFloatArray(), sat, 1e-5f);
    float[] con = image();
    PhotometricDistort.adjustContrast(con, plane, 0.4f);
    assertArrayEquals(ref.get("con_040").toFloatArray(), con, 1e-5f);
    con = image();
    PhotometricDistort.adjustContrast(con, plane, 1.6f);
    assertArrayEquals(ref.get("con_160").toFloatArray(), con, 1e-5f);
    float[] bri = image();
    PhotometricDistort.adjustBrightness(bri, 1.3f);
    assertArrayEquals(ref.get("bri_130").toFloatArray(), bri, 1e-5f);
  }

  @Test
  void resizeMatchesTorchvisionAntialiasedBilinear() {
    NDArray img = ref.get("image");
    DetectionSample s =
        DetectionSample.of(manager, "r", img, new float[][] {{1, 2, 9, 5}}, new long[] {1});
    DetectionSample small = new Resize(7, 4).apply(s, new Random(0));
    assertEquals(new Shape(3, 4, 7), small.getImage().getShape());
    assertArrayEquals(ref.get("resize_4x7").toFloatArray(), small.getImage().toFloatArray(), 1e-5f);
    DetectionSample big = new Resize(15, 9).apply(s, new Random(0));
    assertArrayEquals(ref.get("resize_9x15").toFloatArray(), big.getImage().toFloatArray(), 1e-5f);
    // boxes: x * 15/10 = 1.5x, y * 9/6 = 1.5y
    assertArrayEquals(new float[] {1.5f, 3f, 13.5f, 7.5f}, big.getBoxes().toFloatArray());
  }
}
