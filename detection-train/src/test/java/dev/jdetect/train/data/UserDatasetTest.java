package dev.jdetect.train.data;

import static dev.jdetect.train.data.ReadersTest.png;
import static dev.jdetect.train.data.ReadersTest.voc;
import static dev.jdetect.train.data.ReadersTest.vocObject;
import static dev.jdetect.train.data.ReadersTest.vocXml;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Datasets made by users: their own classes, split files, and boxes outside the image. */
class UserDatasetTest {

  private static final String WIDGETS =
      vocXml(
          64,
          48,
          vocObject("widget", 0, "2", "2", "20", "20")
              + vocObject("gadget", 0, "5", "5", "30", "30")
              + vocObject("widget", 1, "1", "1", "9", "9"));

  @Test
  void vocClassesFromAFileOrTheAnnotations(@TempDir Path dir) throws Exception {
    voc(dir, WIDGETS);
    // the default list is VOC's 20 classes: the error says how to give others
    DatasetFormatException e =
        assertThrows(
            DatasetFormatException.class, () -> VocReader.builder().setRoot(dir).build().read());
    assertTrue(e.getMessage().contains("'widget'"), e.getMessage());
    assertTrue(e.getMessage().contains("class list"), e.getMessage());

    AnnotationSet collected =
        VocReader.builder().setRoot(dir).optClassesFromAnnotations(true).build().read();
    assertEquals(List.of("gadget", "widget"), collected.getClassNames()); // sorted
    assertEquals(2, collected.getImages().get(0).getObjects().get(0).getLabel());
    assertEquals(1, collected.getImages().get(0).getObjects().get(1).getLabel());

    // written next to a model and read back, with a byte order mark and a blank line
    Path classes = dir.resolve("model/classes.txt");
    Files.createDirectories(classes.getParent());
    collected.writeClassNames(classes);
    assertEquals(List.of("gadget", "widget"), AnnotationSet.readClassNames(classes));
    Path edited = dir.resolve("edited.txt");
    Files.writeString(edited, "\uFEFFwidget\n\ngadget\nbolt\n");
    AnnotationSet fromFile = VocReader.builder().setRoot(dir).optClassFile(edited).build().read();
    assertEquals(List.of("widget", "gadget", "bolt"), fromFile.getClassNames());
    assertEquals(1, fromFile.getImages().get(0).getObjects().get(0).getLabel());
    Files.writeString(edited, "widget\ngadget\nwidget\n");
    e =
        assertThrows(
            DatasetFormatException.class,
            () -> VocReader.builder().setRoot(dir).optClassFile(edited).build().read());
    assertTrue(e.getMessage().contains("listed twice"), e.getMessage());
  }

  @Test
  void byteOrderMarkInAnImageSetFile(@TempDir Path dir) throws Exception {
    voc(dir, WIDGETS);
    Files.writeString(dir.resolve("ImageSets/Main/trainval.txt"), "\uFEFFimg\n");
    AnnotationSet s =
        VocReader.builder().setRoot(dir).optClassesFromAnnotations(true).build().read();
    assertEquals(1, s.getImages().size());
    assertEquals("img", s.getImages().get(0).getId());
    // a CSV header after a byte order mark is still a header
    png(dir.resolve("csv/images/a.png"), 32, 32);
    Files.writeString(
        dir.resolve("csv/label.csv"),
        "\uFEFFimg_name,label,xmin,ymin,xmax,ymax\na.png,0,1,1,9,9\n");
    AnnotationSet c = CsvReader.builder().setCsvFile(dir.resolve("csv/label.csv")).build().read();
    assertEquals(List.of("0"), c.getClassNames());
  }

  /** Two VOC images of 64x48; image "b" has a box reaching x = 80 (16 px outside). */
  private static Path vocWithOutsideBox(Path dir) throws Exception {
    voc(dir, vocXml(64, 48, vocObject("cat", 0, "2", "2", "20", "20")));
    png(dir.resolve("JPEGImages/b.png"), 64, 48);
    Files.writeString(
        dir.resolve("Annotations/b.xml"),
        vocXml(
                64,
                48,
                vocObject("cat", 0, "2", "2", "80", "9") + vocObject("dog", 0, "3", "3", "9", "9"))
            .replace("img.png", "b.png"));
    Files.writeString(dir.resolve("ImageSets/Main/trainval.txt"), "img\nb\n");
    return dir;
  }

  private static AnnotationSet readVoc(Path dir, BoxPolicy policy) {
    return VocReader.builder().setRoot(dir).optBoxPolicy(policy).build().read();
  }

  @Test
  void boxPoliciesForBoxesOutsideTheImage(@TempDir Path dir) throws Exception {
    vocWithOutsideBox(dir);
    DatasetFormatException e =
        assertThrows(
            DatasetFormatException.class,
            () -> VocReader.builder().setRoot(dir).build().read()); // default: error
    assertTrue(e.getMessage().contains("outside"), e.getMessage());
    assertThrows(DatasetFormatException.class, () -> readVoc(dir, BoxPolicy.ERROR));

    AnnotationSet clip = readVoc(dir, BoxPolicy.CLIP);
    assertEquals(2, clip.getImages().size());
    assertArrayEquals(
        new float[] {1, 1, 64, 9}, clip.getImages().get(1).getObjects().get(0).getBox());
    assertEquals(new OutsideBoxCounts(BoxPolicy.CLIP, 1, 1, 0, 0), clip.getOutsideBoxCounts());

    AnnotationSet skipBox = readVoc(dir, BoxPolicy.SKIP_BOX);
    assertEquals(2, skipBox.getImages().size());
    assertEquals(1, skipBox.getImages().get(1).getObjects().size());
    assertEquals(12, skipBox.getImages().get(1).getObjects().get(0).getLabel()); // the dog
    assertEquals(
        new OutsideBoxCounts(BoxPolicy.SKIP_BOX, 1, 0, 1, 0), skipBox.getOutsideBoxCounts());

    AnnotationSet skipImage = readVoc(dir, BoxPolicy.SKIP_IMAGE);
    assertEquals(1, skipImage.getImages().size());
    assertEquals("img", skipImage.getImages().get(0).getId());
    assertEquals(
        new OutsideBoxCounts(BoxPolicy.SKIP_IMAGE, 1, 0, 0, 1), skipImage.getOutsideBoxCounts());
    assertTrue(skipImage.getOutsideBoxCounts().summary().contains("1 images skipped"));
    assertEquals(BoxPolicy.SKIP_IMAGE, BoxPolicy.parse("skip-image"));
    assertEquals(BoxPolicy.SKIP_BOX, BoxPolicy.parse("Skip_Box"));
    assertThrows(IllegalArgumentException.class, () -> BoxPolicy.parse("drop"));
  }

  @Test
  void csvBoxPolicies(@TempDir Path dir) throws Exception {
    png(dir.resolve("images/a.png"), 32, 32);
    png(dir.resolve("images/b.png"), 32, 32);
    Files.writeString(
        dir.resolve("label.csv"),
        "img_name,label,xmin,ymin,xmax,ymax\na.png,0,1,1,10,10\nb.png,0,20,20,40,30\n");
    CsvReader.Builder b = CsvReader.builder().setCsvFile(dir.resolve("label.csv"));
    assertThrows(DatasetFormatException.class, () -> b.build().read());
    AnnotationSet s = b.optBoxPolicy(BoxPolicy.SKIP_IMAGE).build().read();
    assertEquals(1, s.getImages().size());
    assertEquals(1, s.getOutsideBoxCounts().skippedImages());
    AnnotationSet c = b.optBoxPolicy(BoxPolicy.CLIP).build().read();
    assertArrayEquals(
        new float[] {20, 20, 32, 30}, c.getImages().get(1).getObjects().get(0).getBox());
  }

  private static Path cocoFile(Path dir, String name, String categories, String annotations)
      throws Exception {
    png(dir.resolve("images/a.png"), 40, 30);
    png(dir.resolve("images/b.png"), 40, 30);
    String json =
        "\uFEFF{\"images\": [{\"id\": 7, \"file_name\": \"a.png\", \"width\": 40, \"height\": 30},"
            + " {\"id\": 9, \"file_name\": \"b.png\", \"width\": 40, \"height\": 30}],\n"
            + "\"categories\": ["
            + categories
            + "],\n\"annotations\": ["
            + annotations
            + "]}";
    Path file = dir.resolve(name);
    Files.writeString(file, json);
    return file;
  }

  private static CocoReader.Builder coco(Path file) {
    return CocoReader.builder().setAnnotationFile(file).optImageDir(file.resolveSibling("images"));
  }

  @Test
  void cocoKeepsBoxesAndAreasAsWritten(@TempDir Path dir) throws Exception {
    Path file =
        cocoFile(
            dir,
            "val.json",
            "{\"id\": 1, \"name\": \"dog\"}",
            "{\"id\": 1, \"image_id\": 7, \"category_id\": 1, \"bbox\": [-0.5, 0.25, 40.75, 10.3],"
                + " \"area\": 1024.00005, \"iscrowd\": 0},"
                + "{\"id\": 2, \"image_id\": 9, \"category_id\": 1, \"bbox\": [30, 2, 20, 5],"
                + " \"area\": 100, \"iscrowd\": 0}");
    // the second box reaches x = 50 in a 40 pixel wide image
    assertThrows(DatasetFormatException.class, () -> coco(file).build().read());
    AnnotationSet s = coco(file).optBoxPolicy(BoxPolicy.SKIP_BOX).build().read();
    ObjectAnnotation o = s.getImages().get(0).getObjects().get(0);
    // within the 1-pixel tolerance: as written (pycocotools evaluates it so), not clipped
    assertArrayEquals(new double[] {-0.5, 0.25, 40.25, 10.55}, o.getBoxAsDouble());
    assertEquals(1024.00005, o.getArea()); // float32 would make it 1024.0, a small object
    assertTrue(s.getImages().get(1).getObjects().isEmpty());
    assertEquals(1, s.getOutsideBoxCounts().skippedBoxes());
    AnnotationSet clipped = coco(file).optBoxPolicy(BoxPolicy.CLIP).build().read();
    assertArrayEquals(
        new double[] {30, 2, 40, 7},
        clipped.getImages().get(1).getObjects().get(0).getBoxAsDouble());
  }

  @Test
  void cocoValidationCategoriesMustMatchTraining(@TempDir Path dir) throws Exception {
    String ann = "{\"id\": 1, \"image_id\": 7, \"category_id\": 3, \"bbox\": [1, 1, 5, 5]}";
    AnnotationSet train =
        coco(cocoFile(
                dir,
                "train.json",
                "{\"id\": 3, \"name\": \"car\"}, {\"id\": 18, \"name\": \"dog\"}",
                ann))
            .build()
            .read();
    Path same =
        cocoFile(
            dir,
            "same.json",
            "{\"id\": 18, \"name\": \"dog\"}, {\"id\": 3, \"name\": \"car\"}",
            ann);
    assertEquals(
        train.getClassNames(),
        coco(same).optTrainingCategories(train).build().read().getClassNames());

    Path renumbered =
        cocoFile(
            dir,
            "renum.json",
            "{\"id\": 3, \"name\": \"car\"}, {\"id\": 4, \"name\": \"dog\"}",
            ann);
    DatasetFormatException e =
        assertThrows(
            DatasetFormatException.class,
            () -> coco(renumbered).optTrainingCategories(train).build().read());
    assertEquals("categories", e.getField());
    assertTrue(e.getMessage().contains("'dog' has id 18 in training but 4"), e.getMessage());

    Path missing = cocoFile(dir, "missing.json", "{\"id\": 3, \"name\": \"car\"}", ann);
    e =
        assertThrows(
            DatasetFormatException.class,
            () -> coco(missing).optTrainingCategories(train).build().read());
    assertTrue(e.getMessage().contains("'dog' (id 18) only in training"), e.getMessage());
    // the same check for any two splits
    AnnotationSet val = coco(missing).build().read();
    assertThrows(
        IllegalArgumentException.class,
        () -> train.requireSameClasses(val, "training", "validation"));
  }
}
