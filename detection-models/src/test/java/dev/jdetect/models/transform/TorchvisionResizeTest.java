package dev.jdetect.models.transform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.ssd.FixedSizeTransform;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.testkit.NDManagerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SSD and R-CNN transforms against torchvision's {@code GeneralizedRCNNTransform} at input
 * sizes other than the model's: shrinking, enlarging and changing the aspect ratio (fixtures of
 * src/fixtures/gen_models_transform.py).
 */
@ExtendWith(NDManagerExtension.class)
class TorchvisionResizeTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  private Map<String, NDArray> load(String file) throws IOException {
    try (InputStream is = getClass().getResourceAsStream("/fixtures/transform/" + file)) {
      Map<String, NDArray> out = new LinkedHashMap<>();
      for (NDArray a : NDList.decode(manager, is)) {
        out.put(a.getName(), a);
      }
      return out;
    }
  }

  private static NDArray input(NDArray u8) {
    return u8.toType(DataType.FLOAT32, false).div(255f);
  }

  private static float maxAbsDiff(NDArray a, NDArray b) {
    assertEquals(b.getShape(), a.getShape());
    return a.sub(b).abs().max().getFloat();
  }

  @Test
  void fixedSizeTransformEqualsTorchvisionAtEverySize() throws IOException {
    Map<String, NDArray> f = load("fixed_size.npz");
    FixedSizeTransform transform = FixedSizeTransform.builder().setSize(56, 40).build();
    for (int i = 0; i < 4; i++) {
      NDArray out = transform.apply(input(f.get("image_" + i)));
      NDArray expected = f.get("out_" + i);
      assertEquals(
          0f, maxAbsDiff(out, expected), "image " + i + " " + f.get("image_" + i).getShape());
    }
  }

  @Test
  void ssd300TransformEqualsTorchvisionOnA512Image() throws IOException {
    Map<String, NDArray> f = load("ssd300.npz");
    float[] pixels = new float[3 * 512 * 512];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 512; y++) {
        for (int x = 0; x < 512; x++) {
          int v = (7 * x + 13 * y + 101 * c + (x * y) % 17) % 256;
          pixels[(c * 512 + y) * 512 + x] = v / 255f;
        }
      }
    }
    NDArray image = manager.create(pixels, new Shape(1, 3, 512, 512));
    float[] out = SsdModels.vggTransform(300).apply(image).toFloatArray();
    long[] keep = f.get("rows_cols").toLongArray();
    float[] expected = f.get("out_sub").toFloatArray();
    double sum = 0;
    for (float v : out) {
      sum += v;
    }
    assertEquals(f.get("out_sum").getDouble(), sum, 1e-6 * Math.abs(sum));
    int k = 0;
    for (int c = 0; c < 3; c++) {
      for (long y : keep) {
        for (long x : keep) {
          assertEquals(
              expected[k++], out[(int) ((c * 300 + y) * 300 + x)], "at " + c + "," + y + "," + x);
        }
      }
    }
  }

  @Test
  void antialiasIsAnOption() throws IOException {
    Map<String, NDArray> f = load("fixed_size.npz");
    NDArray image = input(f.get("image_0"));
    FixedSizeTransform antialiased =
        FixedSizeTransform.builder().setSize(56, 40).optAntialias(true).build();
    assertTrue(maxAbsDiff(antialiased.apply(image), f.get("aa_out_0")) < 1e-5f);
    // shrinking 97x131 to 40x56 without antialiasing is far from the antialiased result
    NDArray plain = FixedSizeTransform.builder().setSize(56, 40).build().apply(image);
    assertTrue(maxAbsDiff(plain, f.get("aa_out_0")) > 0.5f);
  }

  @Test
  void rcnnTransformEqualsTorchvisionAtEverySize() throws IOException {
    Map<String, NDArray> f = load("rcnn.npz");
    RcnnTransform transform = RcnnTransform.builder().optMinSize(40).optMaxSize(64).build();
    NDList images = new NDList();
    for (int i = 0; i < 3; i++) {
      images.add(input(f.get("image_" + i)));
    }
    ImageBatch batch = transform.apply(images);
    assertEquals(0f, maxAbsDiff(batch.tensor(), f.get("batch")));
    long[] sizes = f.get("sizes").toLongArray();
    List<int[]> got = batch.imageSizes();
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(new int[] {(int) sizes[2 * i], (int) sizes[2 * i + 1]}, got.get(i));
    }
  }

  @Test
  void resizeKeepsLayoutAndRejectsBadSizes() {
    NDArray chw = manager.arange(24f).reshape(2, 3, 4);
    NDArray out = BilinearResize.resize(chw, 6, 8, false);
    assertEquals(new Shape(2, 6, 8), out.getShape());
    // a constant image stays constant; enlarging keeps the corner pixels
    assertEquals(0f, out.get(0, 0, 0).getFloat());
    assertEquals(23f, out.get(1, 5, 7).getFloat());
    assertTrue(BilinearResize.resize(chw, 3, 4, false) == chw);
    assertThrows(IllegalArgumentException.class, () -> BilinearResize.resize(chw, 0, 4, false));
    NDArray ints = manager.zeros(new Shape(3, 4, 4), DataType.INT32);
    assertThrows(IllegalArgumentException.class, () -> BilinearResize.resize(ints, 2, 2, false));
  }

  @Test
  void normalizationValidatesAndAppliesPerChannel() {
    assertThrows(
        IllegalArgumentException.class,
        () -> Normalization.of(new float[] {0.5f}, new float[] {1, 1, 1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> Normalization.of(new float[] {0, 0, 0}, new float[] {1, 0, 1}));
    Normalization n = Normalization.of(new float[] {0.5f, 0f, 1f}, new float[] {0.5f, 2f, 1f});
    NDArray ones = manager.ones(new Shape(1, 3, 1, 2));
    assertArrayEquals(new float[] {1, 1, 0.5f, 0.5f, 0, 0}, n.apply(ones).toFloatArray());
    assertArrayEquals(new float[] {1, 1, 0.5f, 0.5f, 0, 0}, n.apply(ones.get(0)).toFloatArray());
  }
}
