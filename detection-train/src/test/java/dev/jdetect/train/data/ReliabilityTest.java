package dev.jdetect.train.data;

import static dev.jdetect.train.data.ReadersTest.png;
import static dev.jdetect.train.data.ReadersTest.voc;
import static dev.jdetect.train.data.ReadersTest.vocObject;
import static dev.jdetect.train.data.ReadersTest.vocXml;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReliabilityTest {

  private static AnnotationSet readVoc(Path root, ErrorPolicy policy) {
    return VocReader.builder().setRoot(root).optErrorPolicy(policy).build().read();
  }

  private static String twoObjects(String badObject) {
    return vocXml(64, 48, vocObject("dog", 0, "1", "1", "10", "10") + badObject);
  }

  @Test
  void corruptImage(@TempDir Path dir) throws Exception {
    voc(dir, twoObjects(""));
    Path img = dir.resolve("JPEGImages/img.png");
    Files.write(img, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> readVoc(dir, ErrorPolicy.FAIL));
    assertEquals(img, e.getFile());
    assertTrue(e.getMessage().contains("img.png"), e.getMessage());
    AnnotationSet s = readVoc(dir, ErrorPolicy.SKIP_WITH_WARNING);
    assertTrue(s.getImages().isEmpty());
    assertEquals(1, s.getWarnings().size());

    // unverified at read time: loading the image reports the file
    AnnotationSet lazy = VocReader.builder().setRoot(dir).optVerifyImages(false).build().read();
    try (NDManager m = NDManager.newBaseManager()) {
      DatasetFormatException e2 =
          assertThrows(
              DatasetFormatException.class,
              () -> DetectionSample.load(m, lazy.getImages().get(0), false, false));
      assertEquals(img, e2.getFile());
    }
  }

  @Test
  void missingAnnotationFile(@TempDir Path dir) throws Exception {
    voc(dir, twoObjects(""));
    Files.writeString(dir.resolve("ImageSets/Main/trainval.txt"), "img\nnope\n");
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> readVoc(dir, ErrorPolicy.FAIL));
    assertEquals(dir.resolve("Annotations/nope.xml"), e.getFile());
    AnnotationSet s = readVoc(dir, ErrorPolicy.SKIP_WITH_WARNING);
    assertEquals(1, s.getImages().size());
    assertTrue(s.getWarnings().get(0).contains("nope.xml"));
    // a missing split file always throws
    assertThrows(
        DatasetFormatException.class,
        () -> VocReader.builder().setRoot(dir).optSplit("test").build().read());
  }

  @Test
  void malformedXmlNamesTheLine(@TempDir Path dir) throws Exception {
    voc(dir, "<annotation>\n<size><width>64</width>\n<height>48</height></size>\n</wrong>\n");
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> readVoc(dir, ErrorPolicy.FAIL));
    assertEquals(4, e.getLine());
    assertTrue(e.getMessage().contains("img.xml, line 4"), e.getMessage());
    assertTrue(readVoc(dir, ErrorPolicy.SKIP_WITH_WARNING).getImages().isEmpty());
  }

  @Test
  void nonNumericFieldNamesFieldAndLine(@TempDir Path dir) throws Exception {
    // lines: 1 <annotation>, 2 <filename>, 3 <size>, 4-13 the dog <object> (name, difficult,
    // bndbox, xmin, ymin, xmax, ymax, </bndbox>, </object>), 14 <object>, 15 <name>,
    // 16 <difficult>, 17 <bndbox>, 18 <xmin>, 19 <ymin>, 20 <xmax>
    voc(dir, twoObjects(vocObject("cat", 0, "2", "2", "abc", "9")));
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> readVoc(dir, ErrorPolicy.FAIL));
    assertEquals("bndbox/xmax", e.getField());
    assertEquals(20, e.getLine());
    AnnotationSet s = readVoc(dir, ErrorPolicy.SKIP_WITH_WARNING);
    assertEquals(1, s.getImages().get(0).getObjects().size());
  }

  @Test
  void unknownClassName(@TempDir Path dir) throws Exception {
    voc(dir, twoObjects(vocObject("unicorn", 0, "2", "2", "9", "9")));
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> readVoc(dir, ErrorPolicy.FAIL));
    assertEquals("object/name", e.getField());
    assertEquals(15, e.getLine()); // the second object's <name> (see the test above)
    assertTrue(e.getMessage().contains("unicorn"));
    AnnotationSet s = readVoc(dir, ErrorPolicy.SKIP_WITH_WARNING);
    assertEquals(1, s.getImages().get(0).getObjects().size());
    assertEquals(12, s.getImages().get(0).getObjects().get(0).getLabel());
    assertEquals(1, s.getWarnings().size());
  }

  @Test
  void boxOutsideTheImage(@TempDir Path dir) throws Exception {
    // image 64x48; xmax 80 is 16 px outside -> error; skip mode clips to [1, 1, 64, 9]
    voc(dir, twoObjects(vocObject("cat", 0, "2", "2", "80", "9")));
    DatasetFormatException e =
        assertThrows(DatasetFormatException.class, () -> readVoc(dir, ErrorPolicy.FAIL));
    assertEquals("bndbox", e.getField());
    assertTrue(e.getMessage().contains("outside"));
    AnnotationSet s = readVoc(dir, ErrorPolicy.SKIP_WITH_WARNING);
    assertArrayEquals(new float[] {1, 1, 64, 9}, s.getImages().get(0).getObjects().get(1).getBox());
    assertEquals(1, s.getWarnings().size());
    // within the 1-pixel tolerance: clipped silently (xmax 65 -> 65 > 64)
    voc(dir, twoObjects(vocObject("cat", 0, "2", "2", "65", "9")));
    AnnotationSet t = readVoc(dir, ErrorPolicy.FAIL);
    assertEquals(64f, t.getImages().get(0).getObjects().get(1).getX2());
    assertTrue(t.getWarnings().isEmpty());
  }

  @Test
  void degenerateBox(@TempDir Path dir) throws Exception {
    png(dir.resolve("images/a.png"), 32, 32);
    Files.writeString(
        dir.resolve("label.csv"),
        "img_name,label,xmin,ymin,xmax,ymax\na.png,0,1,1,10,10\na.png,0,5,5,5,9\n");
    CsvReader.Builder b = CsvReader.builder().setCsvFile(dir.resolve("label.csv"));
    DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> b.build().read());
    assertEquals(3, e.getLine());
    assertTrue(e.getMessage().contains("degenerate"));
    AnnotationSet s = b.optErrorPolicy(ErrorPolicy.SKIP_WITH_WARNING).build().read();
    assertEquals(1, s.getImages().get(0).getObjects().size());
  }

  @Test
  void malformedCsvRows(@TempDir Path dir) throws Exception {
    png(dir.resolve("images/a.png"), 32, 32);
    Path csv = dir.resolve("label.csv");
    Files.writeString(csv, "img_name,label,xmin,ymin,xmax,ymax\na.png,0,1,1,10\n");
    DatasetFormatException e =
        assertThrows(
            DatasetFormatException.class, () -> CsvReader.builder().setCsvFile(csv).build().read());
    assertEquals(2, e.getLine());
    assertEquals(csv, e.getFile());
    Files.writeString(csv, "a.png,0,1,1,10,10\na.png,0,1,x,10,10\n");
    DatasetFormatException f =
        assertThrows(
            DatasetFormatException.class, () -> CsvReader.builder().setCsvFile(csv).build().read());
    assertEquals(2, f.getLine());
    assertEquals("ymin", f.getField());
    // unknown class index with an explicit list
    Files.writeString(csv, "a.png,3,1,1,10,10\n");
    DatasetFormatException g =
        assertThrows(
            DatasetFormatException.class,
            () -> CsvReader.builder().setCsvFile(csv).setClasses(List.of("a", "b")).build().read());
    assertEquals("label", g.getField());
    // missing image in skip mode: the image is skipped
    Files.writeString(csv, "a.png,0,1,1,10,10\nmissing.png,0,1,1,10,10\n");
    AnnotationSet s =
        CsvReader.builder()
            .setCsvFile(csv)
            .optErrorPolicy(ErrorPolicy.SKIP_WITH_WARNING)
            .build()
            .read();
    assertEquals(1, s.getImages().size());
    assertTrue(s.getWarnings().get(0).contains("missing.png"));
  }

  @Test
  void malformedJsonAndBadCocoFields(@TempDir Path dir) throws Exception {
    png(dir.resolve("a.png"), 40, 30);
    Path file = dir.resolve("instances.json");
    Files.writeString(file, "{\n\"images\": [\n{\"id\": 1,, }\n]\n}");
    CocoReader.Builder b = CocoReader.builder().setAnnotationFile(file).optImageDir(dir);
    DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> b.build().read());
    assertEquals(3, e.getLine());
    assertTrue(e.getMessage().contains("malformed JSON"));

    Files.writeString(
        file,
        "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\", \"width\": 40, \"height\": 30}],"
            + "\"categories\": [{\"id\": 1, \"name\": \"x\"}],"
            + "\"annotations\": [{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 1, 5, 5]},"
            + "{\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 1, 5, 5]},"
            + "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 1, 5]}]}");
    DatasetFormatException f = assertThrows(DatasetFormatException.class, () -> b.build().read());
    assertEquals("annotations[1].category_id", f.getField());
    AnnotationSet s = b.optErrorPolicy(ErrorPolicy.SKIP_WITH_WARNING).build().read();
    assertEquals(1, s.getImages().get(0).getObjects().size());
    assertEquals(2, s.getWarnings().size());
    assertTrue(s.getWarnings().get(1).contains("annotations[2].bbox"));
  }
}
