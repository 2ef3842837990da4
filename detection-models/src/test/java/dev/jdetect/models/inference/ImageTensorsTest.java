package dev.jdetect.models.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.NDManagerExtension;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Hand-computed pixels of the image to tensor conversion. */
@ExtendWith(NDManagerExtension.class)
class ImageTensorsTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  @Test
  void greySamplesAreTakenAsStored() {
    BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    gray.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {100, 200});
    NDArray chw = ImageTensors.toChw(manager, gray);
    assertEquals(new Shape(3, 1, 2), chw.getShape());
    float a = 100 / 255f;
    float b = 200 / 255f;
    assertArrayEquals(new float[] {a, b, a, b, a, b}, chw.toFloatArray(), 1e-7f);
  }

  @Test
  void greyWithAlphaIsCompositedOntoWhite() {
    BufferedImage gray = grayAlphaImage(2, 1);
    WritableRaster r = gray.getRaster();
    r.setPixel(0, 0, new int[] {100, 255});
    r.setPixel(1, 0, new int[] {100, 51});
    float opaque = 100 / 255f;
    float faint = 0.2f * (100 / 255f) + 0.8f;
    assertArrayEquals(
        new float[] {opaque, faint, opaque, faint, opaque, faint},
        ImageTensors.toChw(manager, gray).toFloatArray(),
        1e-6f);
  }

  @Test
  void colourWithAlphaIsCompositedOntoWhite() {
    BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
    argb.setRGB(0, 0, 0x00ff0000); // fully transparent red: white
    argb.setRGB(1, 0, 0x80ff0000); // half red over white
    float a = 128 / 255f;
    float[] expected = {1, 1, 1, 1 - a, 1, 1 - a};
    assertArrayEquals(expected, ImageTensors.toChw(manager, argb).toFloatArray(), 1e-6f);
    Image djl = ImageFactory.getInstance().fromImage(argb);
    assertArrayEquals(expected, ImageTensors.toChw(manager, djl).toFloatArray(), 1e-6f);
    BufferedImage shown = ImageTensors.toBufferedImage(djl);
    assertEquals(0xffffff, shown.getRGB(0, 0) & 0xffffff);
    assertEquals(0xff7f7f, shown.getRGB(1, 0) & 0xffffff);
  }

  @Test
  void roundTripKeepsEightBitPixels() {
    BufferedImage rgb = new BufferedImage(3, 2, BufferedImage.TYPE_3BYTE_BGR);
    rgb.setRGB(0, 0, 0x123456);
    rgb.setRGB(2, 1, 0xfedcba);
    NDArray chw = ImageTensors.toChw(manager, rgb);
    assertEquals(0x12 / 255f, chw.getFloat(0, 0, 0), 1e-7f);
    assertEquals(0x56 / 255f, chw.getFloat(2, 0, 0), 1e-7f);
    BufferedImage back = ImageTensors.toBufferedImage(chw);
    assertEquals(0x123456, back.getRGB(0, 0) & 0xffffff);
    assertEquals(0xfedcba, back.getRGB(2, 1) & 0xffffff);
    assertThrows(
        IllegalArgumentException.class,
        () -> ImageTensors.toBufferedImage(manager.zeros(new Shape(1, 2, 2))));
  }

  /** A grey + alpha image, the colour model ImageIO decodes such PNGs to. */
  private static BufferedImage grayAlphaImage(int w, int h) {
    ColorSpace gray = ColorSpace.getInstance(ColorSpace.CS_GRAY);
    ComponentColorModel cm =
        new ComponentColorModel(gray, true, false, Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
    return new BufferedImage(cm, cm.createCompatibleWritableRaster(w, h), false, null);
  }
}
