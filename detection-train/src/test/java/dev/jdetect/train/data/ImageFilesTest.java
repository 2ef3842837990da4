package dev.jdetect.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jdetect.models.inference.ImageTensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Image files decode as a viewer shows them: Pillow's decode with {@code ImageOps.exif_transpose}
 * and alpha composited onto white (fixtures of src/fixtures/gen_images.py). Differences are in
 * 8-bit levels; JPEG decoders differ by a level or two where Pillow's libjpeg-turbo and the JDK's
 * libjpeg round their transforms differently.
 */
class ImageFilesTest {

  private static NDManager manager;
  private static Map<String, NDArray> expected;

  @BeforeAll
  static void load() throws IOException {
    manager = NDManager.newBaseManager();
    expected = new HashMap<>();
    try (InputStream is =
        ImageFilesTest.class.getResourceAsStream("/fixtures/images/expected.npz")) {
      for (NDArray a : NDList.decode(manager, is)) {
        expected.put(a.getName(), a);
      }
    }
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  static Path fixture(String name) {
    try {
      return Path.of(ImageFilesTest.class.getResource("/fixtures/images/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {mean, max} absolute difference in 8-bit levels between the decoded file and Pillow's. */
  private static float[] difference(String file) {
    BufferedImage decoded = ImageFiles.read(fixture(file));
    NDArray chw = ImageTensors.toChw(manager, decoded);
    NDArray want = expected.get(file.substring(0, file.indexOf('.')));
    NDArray wantChw = want.transpose(2, 0, 1).toType(DataType.FLOAT32, false);
    assertEquals(wantChw.getShape(), chw.getShape(), file + ": shape");
    NDArray diff = chw.mul(255f).sub(wantChw).abs();
    return new float[] {diff.mean().getFloat(), diff.max().getFloat()};
  }

  private static void assertClose(String file, float meanBound, float maxBound) {
    float[] d = difference(file);
    assertTrue(
        d[0] <= meanBound && d[1] <= maxBound,
        file + ": mean difference " + d[0] + ", max " + d[1] + " (levels)");
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void exifOrientationTurnsTheImageUpright(int orientation) {
    String file = "exif_" + orientation + ".jpg";
    assertClose(file, 0.25f, 2f);
    assertArrayEquals(new int[] {64, 48}, ImageFiles.readSize(fixture(file)));
  }

  @Test
  void cmykAndYcckJpegsDecodeToTheirColours() {
    assertClose("cmyk.jpg", 0.25f, 2f);
    assertClose("ycck.jpg", 0.25f, 2f);
  }

  @Test
  void grayPngKeepsItsLevels() {
    assertClose("gray.png", 1e-3f, 1e-3f);
  }

  @Test
  void transparencyIsCompositedOntoWhite() {
    // Pillow rounds the composite to 8 bits; the tensor keeps it exact
    assertClose("gray_alpha.png", 0.25f, 0.5f);
    assertClose("rgba.png", 0.25f, 0.5f);
  }

  @Test
  void truncatedJpegIsAnErrorNamingTheFile() {
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> ImageFiles.read(fixture("truncated.jpg")));
    assertTrue(e.getMessage().contains("truncated.jpg"), e.getMessage());
    assertTrue(e.getMessage().toLowerCase().contains("truncated"), e.getMessage());
  }

  @Test
  void strayBytesBetweenSegmentsLoseNothing() {
    // libjpeg warns "Corrupt JPEG data: 1 extraneous bytes before marker 0xd9"; the pixels are
    // whole
    assertClose("extra_bytes.jpg", 0.25f, 2f);
  }

  @Test
  void undecodableJpegIsAnErrorNamingTheFile() {
    DatasetFormatException e =
        assertThrows(
            DatasetFormatException.class, () -> ImageFiles.read(fixture("bad_huffman.jpg")));
    assertTrue(e.getMessage().contains("bad_huffman.jpg"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"exif_6.jpg", "exif_8.jpg", "cmyk.jpg", "ycck.jpg", "gray_alpha.png", "rgba.png"})
  void bytesDecodeExactlyAsTheirFile(String name) throws IOException {
    BufferedImage fromFile = ImageFiles.read(fixture(name));
    BufferedImage fromBytes = ImageFiles.read(Files.readAllBytes(fixture(name)), name);
    assertEquals(fromFile.getWidth(), fromBytes.getWidth(), name);
    assertEquals(fromFile.getHeight(), fromBytes.getHeight(), name);
    assertArrayEquals(
        fromFile.getRGB(
            0, 0, fromFile.getWidth(), fromFile.getHeight(), null, 0, fromFile.getWidth()),
        fromBytes.getRGB(
            0, 0, fromBytes.getWidth(), fromBytes.getHeight(), null, 0, fromBytes.getWidth()),
        name);
  }

  @Test
  void badBytesAreErrorsNamingTheFile() throws IOException {
    DatasetFormatException e =
        assertThrows(
            DatasetFormatException.class,
            () -> ImageFiles.read(Files.readAllBytes(fixture("truncated.jpg")), "a/truncated.jpg"));
    assertTrue(e.getMessage().contains("a/truncated.jpg"), e.getMessage());
    assertTrue(e.getMessage().toLowerCase().contains("truncated"), e.getMessage());
    e = assertThrows(DatasetFormatException.class, () -> ImageFiles.read(new byte[0], "e.png"));
    assertTrue(
        e.getMessage().contains("e.png") && e.getMessage().contains("empty"), e.getMessage());
    e =
        assertThrows(
            DatasetFormatException.class, () -> ImageFiles.read(new byte[] {1, 2, 3}, "x.jpg"));
    assertTrue(e.getMessage().contains("x.jpg"), e.getMessage());
  }
}
