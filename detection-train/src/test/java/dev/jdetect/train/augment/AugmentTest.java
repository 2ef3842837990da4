package dev.jdetect.train.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.NDManagerExtension;
import dev.jdetect.train.data.DetectionSample;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NDManagerExtension.class)
class AugmentTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  /** A (3, h, w) image whose value at (c, y, x) is c * 0.25 + y * 0.01 + x * 0.001. */
  private NDArray image(int h, int w) {
    float[] v = new float[3 * h * w];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          v[(c * h + y) * w + x] = c * 0.25f + y * 0.01f + x * 0.001f;
        }
      }
    }
    return manager.create(v, new Shape(3, h, w));
  }

  private static float pixel(NDArray img, int c, int y, int x) {
    Shape s = img.getShape();
    return img.toFloatArray()[(int) ((c * s.get(1) + y) * s.get(2) + x)];
  }

  @Test
  void horizontalFlipMovesBoxesAndPixels() {
    // W = 6: [1,0,3,2] -> [6-3, 0, 6-1, 2] = [3,0,5,2]; [0,1,6,4] -> [0,1,6,4]
    NDArray img = image(4, 6);
    DetectionSample s =
        DetectionSample.of(
            manager, "a", img, new float[][] {{1, 0, 3, 2}, {0, 1, 6, 4}}, new long[] {1, 2});
    DetectionSample f = HorizontalFlip.flip(s);
    assertArrayEquals(new float[] {3, 0, 5, 2, 0, 1, 6, 4}, f.getBoxes().toFloatArray());
    assertArrayEquals(new long[] {1, 2}, f.getLabels().toLongArray());
    for (int x = 0; x < 6; x++) {
      assertEquals(pixel(img, 2, 3, 5 - x), pixel(f.getImage(), 2, 3, x));
    }
    // p = 0 never flips, p = 1 always flips
    assertSame(s, new HorizontalFlip(0f).apply(s, new Random(1)));
    assertArrayEquals(
        f.getBoxes().toFloatArray(),
        new HorizontalFlip(1f).apply(s, new Random(1)).getBoxes().toFloatArray());
  }

  @Test
  void resizeScalesBoxes() {
    // 6x4 -> 12x2: sx = 2, sy = 0.5: [1,0,3,2] -> [2,0,6,1]
    DetectionSample s =
        DetectionSample.of(manager, "a", image(4, 6), new float[][] {{1, 0, 3, 2}}, new long[] {1});
    DetectionSample r = new Resize(12, 2).apply(s, new Random(0));
    assertEquals(new Shape(3, 2, 12), r.getImage().getShape());
    assertArrayEquals(new float[] {2, 0, 6, 1}, r.getBoxes().toFloatArray());
    // a constant image stays constant under bilinear resizing
    NDArray flat = manager.full(new Shape(3, 5, 7), 0.25f);
    DetectionSample c = DetectionSample.of(manager, "c", flat, new float[0][], new long[0]);
    float[] v = new Resize(3, 9).apply(c, new Random(0)).getImage().toFloatArray();
    for (float x : v) {
      assertEquals(0.25f, x, 1e-6f);
    }
  }

  @Test
  void expandShiftsBoxesAndFillsWithMean() {
    // left 2, top 1 on a 10x7 canvas: [1,0,3,2] -> [3,1,5,3]
    NDArray img = image(4, 6);
    DetectionSample s =
        DetectionSample.of(manager, "a", img, new float[][] {{1, 0, 3, 2}}, new long[] {1});
    ZoomOut zoom = ZoomOut.builder().optFill(0.1f, 0.2f, 0.3f).build();
    DetectionSample e = zoom.expand(s, 2, 1, 10, 7);
    assertEquals(new Shape(3, 7, 10), e.getImage().getShape());
    assertArrayEquals(new float[] {3, 1, 5, 3}, e.getBoxes().toFloatArray());
    assertEquals(0.1f, pixel(e.getImage(), 0, 0, 0));
    assertEquals(0.3f, pixel(e.getImage(), 2, 6, 9));
    assertEquals(pixel(img, 1, 0, 0), pixel(e.getImage(), 1, 1, 2));
    assertEquals(pixel(img, 2, 3, 5), pixel(e.getImage(), 2, 4, 7));
    assertThrows(IllegalArgumentException.class, () -> zoom.expand(s, 5, 0, 10, 7));
  }

  @Test
  void zoomOutRandomKeepsBoxContentAligned() {
    DetectionSample s =
        DetectionSample.of(manager, "a", image(8, 8), new float[][] {{2, 2, 6, 6}}, new long[] {1});
    ZoomOut zoom = ZoomOut.builder().optProbability(1f).optSideRange(2f, 3f).build();
    for (int seed = 0; seed < 5; seed++) {
      DetectionSample z = zoom.apply(s, new Random(seed));
      int w = z.getWidth();
      assertTrue(w >= 16 && w <= 24, "canvas " + w);
      float[] b = z.getBoxes().toFloatArray();
      assertEquals(4f, b[2] - b[0]);
      // the pixel at the box's top-left corner is the original pixel (2, 2)
      assertEquals(pixel(s.getImage(), 0, 2, 2), pixel(z.getImage(), 0, (int) b[1], (int) b[0]));
    }
  }

  @Test
  void cropKeepsBoxesWithCentreInsideAndClips() {
    // W=6, H=4; window left 2, top 1, 3x2 -> x in (2,5), y in (1,3)
    // A [0,0,2,2] centre (1,1): outside -> dropped
    // B [3,1,6,4] centre (4.5,2.5): inside -> [1,0,4,3] clipped to [1,0,3,2]
    // C [1,1,5,3] centre (3,2): inside -> [-1,0,3,2] clipped to [0,0,3,2]
    // D [0,0,4,2] centre (2,1): on the edge -> dropped (strictly inside only)
    NDArray img = image(4, 6);
    DetectionSample s =
        DetectionSample.of(
            manager,
            "a",
            img,
            new float[][] {{0, 0, 2, 2}, {3, 1, 6, 4}, {1, 1, 5, 3}, {0, 0, 4, 2}},
            new long[] {1, 2, 3, 4},
            new boolean[] {false, true, false, false});
    DetectionSample c = IouCrop.crop(s, 2, 1, 3, 2);
    assertEquals(new Shape(3, 2, 3), c.getImage().getShape());
    assertArrayEquals(new float[] {1, 0, 3, 2, 0, 0, 3, 2}, c.getBoxes().toFloatArray());
    assertArrayEquals(new long[] {2, 3}, c.getLabels().toLongArray());
    assertArrayEquals(new boolean[] {true, false}, c.getDifficult().toBooleanArray());
    assertEquals(pixel(img, 1, 1, 2), pixel(c.getImage(), 1, 0, 0));
    assertEquals(pixel(img, 2, 2, 4), pixel(c.getImage(), 2, 1, 2));
    assertThrows(IllegalArgumentException.class, () -> IouCrop.crop(s, 4, 0, 3, 2));
  }

  @Test
  void iouCropRandomInvariants() {
    float[][] boxes = {{4, 4, 30, 30}, {20, 30, 60, 62}, {40, 2, 63, 20}};
    DetectionSample s =
        DetectionSample.of(manager, "a", image(64, 64), boxes, new long[] {1, 2, 3});
    IouCrop crop = IouCrop.builder().build();
    int changed = 0;
    for (int seed = 0; seed < 30; seed++) {
      try (NDManager sub = manager.newSubManager()) {
        DetectionSample in =
            DetectionSample.of(sub, "a", s.getImage().duplicate(), boxes, new long[] {1, 2, 3});
        DetectionSample c = crop.apply(in, new Random(seed));
        int w = c.getWidth();
        int h = c.getHeight();
        float[] b = c.getBoxes().toFloatArray();
        long[] l = c.getLabels().toLongArray();
        assertTrue(l.length >= 1, "at least one box survives");
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < l.length; i++) {
          assertTrue(l[i] >= 1 && l[i] <= 3 && seen.add(l[i]), "labels " + Arrays.toString(l));
          assertTrue(b[4 * i] >= 0 && b[4 * i + 2] <= w && b[4 * i] < b[4 * i + 2]);
          assertTrue(b[4 * i + 1] >= 0 && b[4 * i + 3] <= h && b[4 * i + 1] < b[4 * i + 3]);
        }
        if (w != 64 || h != 64) {
          changed++;
          assertTrue(w >= 19 && h >= 19, "scale >= 0.3");
          float aspect = (float) w / h;
          assertTrue(aspect >= 0.5f && aspect <= 2f);
        }
        // same seed, same result
        DetectionSample again = crop.apply(in, new Random(seed));
        assertArrayEquals(b, again.getBoxes().toFloatArray());
      }
    }
    assertTrue(changed > 5, "crops happen: " + changed);
  }

  @Test
  void iouCropHonoursMinimumIou() {
    // only option 0.9: an accepted window has IoU >= 0.9 with a kept box B, so the clipped box
    // (B inside window) covers >= 90% of the new image.
    // (if no window qualifies in 50 rounds the sample comes back unchanged)
    float[][] boxes = {{4, 4, 60, 60}};
    IouCrop crop = IouCrop.builder().optOptions(0.9f).optScaleRange(0.5f, 1f).build();
    int cropped = 0;
    for (int seed = 0; seed < 10; seed++) {
      try (NDManager sub = manager.newSubManager()) {
        DetectionSample s = DetectionSample.of(sub, "a", image(64, 64), boxes, new long[] {1});
        DetectionSample c = crop.apply(s, new Random(seed));
        if (c == s) {
          continue;
        }
        cropped++;
        float[] b = c.getBoxes().toFloatArray();
        float area = (b[2] - b[0]) * (b[3] - b[1]);
        assertTrue(area >= 0.9f * c.getWidth() * c.getHeight() - 1e-3f);
      }
    }
    assertTrue(cropped > 3, "cropped " + cropped);
    // option 1.0 = never crop
    DetectionSample s = DetectionSample.of(manager, "a", image(64, 64), boxes, new long[] {1});
    assertSame(s, IouCrop.builder().optOptions(1f).build().apply(s, new Random(3)));
  }

  @Test
  void photometricHelpers() {
    // one red pixel and one grey pixel: planes R = {1, .5}, G = {0, .5}, B = {0, .5}
    float[] px = {1f, 0.5f, 0f, 0.5f, 0f, 0.5f};
    float[] hue = px.clone();
    PhotometricDistort.adjustHue(hue, 2, 1f / 3f); // red -> green, grey unchanged
    assertArrayEquals(new float[] {0f, 0.5f, 1f, 0.5f, 0f, 0.5f}, hue, 1e-6f);
    float[] same = px.clone();
    PhotometricDistort.adjustHue(same, 2, 0f);
    assertArrayEquals(px, same, 1e-6f);
    float[] sat = px.clone();
    // grey of red = 0.2989; grey of (.5, .5, .5) = .5 * (0.2989 + 0.587 + 0.114) = 0.49995
    PhotometricDistort.adjustSaturation(sat, 2, 0f);
    assertArrayEquals(
        new float[] {0.2989f, 0.49995f, 0.2989f, 0.49995f, 0.2989f, 0.49995f}, sat, 1e-6f);
    float[] con = px.clone();
    PhotometricDistort.adjustContrast(con, 2, 0f); // every value becomes the mean grey
    float mean = (0.2989f + 0.49995f) / 2;
    for (float v : con) {
      assertEquals(mean, v, 1e-6f);
    }
    float[] bri = px.clone();
    PhotometricDistort.adjustBrightness(bri, 1.5f); // 1.5 clamps to 1
    assertArrayEquals(new float[] {1f, 0.75f, 0f, 0.75f, 0f, 0.75f}, bri, 1e-6f);
  }

  @Test
  void photometricDistortKeepsBoxesAndPermutesChannels() {
    NDArray img = image(4, 6);
    DetectionSample s =
        DetectionSample.of(manager, "a", img, new float[][] {{1, 0, 3, 2}}, new long[] {1});
    // identity factors and p = 1: only the channel permutation changes the image
    PhotometricDistort pd =
        PhotometricDistort.builder()
            .optBrightness(1f, 1f)
            .optContrast(1f, 1f)
            .optSaturation(1f, 1f)
            .optHue(0f, 0f)
            .optProbability(1f)
            .build();
    float[] orig = img.toFloatArray();
    Set<String> perms = new HashSet<>();
    for (int seed = 0; seed < 20; seed++) {
      DetectionSample d = pd.apply(s, new Random(seed));
      assertArrayEquals(new float[] {1, 0, 3, 2}, d.getBoxes().toFloatArray());
      float[] v = d.getImage().toFloatArray();
      StringBuilder perm = new StringBuilder();
      for (int c = 0; c < 3; c++) {
        // channel c of the output is some input channel k (values k*0.25 + ...)
        int k = Math.round((v[c * 24] - 0f) / 0.25f);
        perm.append(k);
        for (int i = 0; i < 24; i++) {
          assertEquals(orig[k * 24 + i], v[c * 24 + i], 1e-6f);
        }
      }
      perms.add(perm.toString());
    }
    assertTrue(perms.size() > 2, "several permutations: " + perms);
    // default settings: values stay in [0, 1], same seed same output
    PhotometricDistort def = PhotometricDistort.builder().build();
    float[] a = def.apply(s, new Random(5)).getImage().toFloatArray();
    float[] b = def.apply(s, new Random(5)).getImage().toFloatArray();
    assertArrayEquals(a, b);
    for (float x : a) {
      assertTrue(x >= 0f && x <= 1f);
    }
  }

  @Test
  void sanitizeDropsBoxesOutsideTheImage() {
    // 6x4 image: [-2,0,3,2] -> clipped [0,0,3,2]; [5.5,1,9,3] -> [5.5,1,6,3] width .5 < 1 dropped;
    // [7,0,9,2] entirely outside -> dropped
    DetectionSample s =
        DetectionSample.of(
            manager,
            "a",
            image(4, 6),
            new float[][] {{-2, 0, 3, 2}, {5.5f, 1, 9, 3}, {7, 0, 9, 2}},
            new long[] {1, 2, 3});
    DetectionSample c = new SanitizeBoxes().apply(s, new Random(0));
    assertArrayEquals(new float[] {0, 0, 3, 2}, c.getBoxes().toFloatArray());
    assertArrayEquals(new long[] {1}, c.getLabels().toLongArray());
  }

  @Test
  void ssdPipelineIsSeededAndProducesValidTargets() {
    float[][] boxes = {{4, 4, 30, 30}, {20, 30, 60, 62}};
    Compose pipeline = Compose.ssdTraining(32, 32);
    assertEquals(5, pipeline.getTransforms().size());
    for (int seed = 0; seed < 8; seed++) {
      try (NDManager sub = manager.newSubManager()) {
        DetectionSample s = DetectionSample.of(sub, "a", image(64, 64), boxes, new long[] {1, 2});
        DetectionSample a = pipeline.apply(s, seed);
        DetectionSample b = pipeline.apply(s, seed);
        assertEquals(new Shape(3, 32, 32), a.getImage().getShape());
        assertArrayEquals(a.getBoxes().toFloatArray(), b.getBoxes().toFloatArray());
        assertArrayEquals(a.getImage().toFloatArray(), b.getImage().toFloatArray());
        float[] bx = a.getBoxes().toFloatArray();
        assertTrue(bx.length >= 4);
        for (int i = 0; i < bx.length; i += 4) {
          assertTrue(bx[i] >= 0 && bx[i + 2] <= 32 && bx[i] < bx[i + 2]);
          assertTrue(bx[i + 1] >= 0 && bx[i + 3] <= 32 && bx[i + 1] < bx[i + 3]);
        }
      }
    }
  }
}
