package dev.jdetect.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadersTest {

  static void png(Path file, int w, int h) throws Exception {
    Files.createDirectories(file.getParent());
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", file.toFile());
  }

  static String vocXml(int w, int h, String objects) {
    return "<annotation>\n<filename>img.png</filename>\n<size><width>"
        + w
        + "</width><height>"
        + h
        + "</height><depth>3</depth></size>\n"
        + objects
        + "</annotation>\n";
  }

  static String vocObject(
      String name, int difficult, String xmin, String ymin, String xmax, String ymax) {
    return "<object>\n<name>"
        + name
        + "</name>\n<difficult>"
        + difficult
        + "</difficult>\n"
        + "<bndbox>\n<xmin>"
        + xmin
        + "</xmin>\n<ymin>"
        + ymin
        + "</ymin>\n<xmax>"
        + xmax
        + "</xmax>\n<ymax>"
        + ymax
        + "</ymax>\n</bndbox>\n</object>\n";
  }

  /** A one-image VOC tree with image JPEGImages/img.png and Annotations/img.xml. */
  static Path voc(Path root, String xml) throws Exception {
    png(root.resolve("JPEGImages/img.png"), 64, 48);
    Files.createDirectories(root.resolve("Annotations"));
    Files.writeString(root.resolve("Annotations/img.xml"), xml);
    Files.createDirectories(root.resolve("ImageSets/Main"));
    Files.writeString(root.resolve("ImageSets/Main/trainval.txt"), "img\n");
    return root;
  }

  @Test
  void vocConvertsOneBasedInclusiveCoordinatesAndKeepsDifficult(@TempDir Path dir)
      throws Exception {
    // VOC pixels 1..10 inclusive (10 pixels) -> continuous [0, 10); 5..8 -> [4, 8)
    voc(
        dir,
        vocXml(
            64,
            48,
            vocObject("dog", 0, "1", "1", "10", "10") + vocObject("cat", 1, "5", "6", "8", "9.5")));
    AnnotationSet s = VocReader.builder().setRoot(dir).build().read();
    assertEquals(VocReader.VOC_CLASSES, s.getClassNames());
    ImageAnnotation im = s.getImages().get(0);
    assertEquals("img", im.getId());
    assertEquals(64, im.getWidth());
    assertEquals(48, im.getHeight());
    assertEquals(2, im.getObjects().size());
    ObjectAnnotation dog = im.getObjects().get(0);
    assertEquals(12, dog.getLabel());
    assertArrayEquals(new float[] {0, 0, 10, 10}, dog.getBox());
    assertFalse(dog.isDifficult());
    ObjectAnnotation cat = im.getObjects().get(1);
    assertEquals(8, cat.getLabel());
    assertArrayEquals(new float[] {4, 5, 8, 9.5f}, cat.getBox());
    assertTrue(cat.isDifficult());
    // explicit class list
    AnnotationSet own =
        VocReader.builder().setRoot(dir).setClasses(List.of("cat", "dog")).build().read();
    assertEquals(2, own.getImages().get(0).getObjects().get(0).getLabel());
  }

  @Test
  void cocoMapsCategoriesConvertsXywhAndKeepsCrowd(@TempDir Path dir) throws Exception {
    png(dir.resolve("images/a.png"), 40, 30);
    png(dir.resolve("images/b.png"), 20, 20);
    String json =
        "{\"images\": [{\"id\": 7, \"file_name\": \"a.png\", \"width\": 40, \"height\": 30},"
            + " {\"id\": 9, \"file_name\": \"b.png\", \"width\": 20, \"height\": 20}],\n"
            + "\"categories\": [{\"id\": 18, \"name\": \"dog\"}, {\"id\": 3, \"name\": \"car\"}],\n"
            + "\"annotations\": ["
            + "{\"id\": 1, \"image_id\": 7, \"category_id\": 18, \"bbox\": [2, 3, 10, 5],"
            + " \"area\": 42.5, \"iscrowd\": 0},"
            + "{\"id\": 2, \"image_id\": 7, \"category_id\": 3, \"bbox\": [0, 0, 40, 30],"
            + " \"iscrowd\": 1}]}";
    Path file = dir.resolve("instances_val.json");
    Files.writeString(file, json);
    AnnotationSet s =
        CocoReader.builder()
            .setAnnotationFile(file)
            .optImageDir(dir.resolve("images"))
            .build()
            .read();
    // categories sorted by id: 3 car -> 1, 18 dog -> 2
    assertEquals(List.of("car", "dog"), s.getClassNames());
    assertEquals(3, s.getSourceClassId(1));
    assertEquals(18, s.getSourceClassId(2));
    assertEquals(2, s.getImages().size());
    ImageAnnotation a = s.getImages().get(0);
    assertEquals("7", a.getId());
    ObjectAnnotation dog = a.getObjects().get(0);
    assertEquals(2, dog.getLabel());
    assertArrayEquals(new float[] {2, 3, 12, 8}, dog.getBox());
    assertEquals(42.5f, dog.getArea());
    assertFalse(dog.isCrowd());
    ObjectAnnotation crowd = a.getObjects().get(1);
    assertTrue(crowd.isCrowd());
    assertEquals(1200f, crowd.getArea());
    assertTrue(s.getImages().get(1).getObjects().isEmpty());
    AnnotationSet onlyAnnotated =
        CocoReader.builder()
            .setAnnotationFile(file)
            .optImageDir(dir.resolve("images"))
            .optSkipImagesWithoutAnnotations(true)
            .build()
            .read();
    assertEquals(1, onlyAnnotated.getImages().size());
  }

  @Test
  void csvAcceptsNamesIndicesAndEmptyImages(@TempDir Path dir) throws Exception {
    png(dir.resolve("images/x.png"), 32, 32);
    png(dir.resolve("images/y.png"), 32, 32);
    Files.writeString(
        dir.resolve("label.csv"),
        "img_name,label,xmin,ymin,xmax,ymax\nx.png,cat,1,2,11,12\nx.png,1,0,0,5.5,5\n"
            + "y.png,,,,,\n");
    AnnotationSet s =
        CsvReader.builder()
            .setCsvFile(dir.resolve("label.csv"))
            .setClasses(List.of("cat", "dog"))
            .build()
            .read();
    ImageAnnotation x = s.getImages().get(0);
    assertEquals("x.png", x.getId());
    assertEquals(1, x.getObjects().get(0).getLabel());
    assertArrayEquals(new float[] {1, 2, 11, 12}, x.getObjects().get(0).getBox());
    assertEquals(2, x.getObjects().get(1).getLabel()); // index 1 -> "dog"
    assertArrayEquals(new float[] {0, 0, 5.5f, 5}, x.getObjects().get(1).getBox());
    assertTrue(s.getImages().get(1).getObjects().isEmpty());
  }
}
