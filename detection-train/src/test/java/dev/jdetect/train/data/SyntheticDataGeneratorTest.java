package dev.jdetect.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticDataGeneratorTest {

  private static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  @Test
  void deterministicBySeedAndIndex() {
    SyntheticDataGenerator a =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(3)
            .optImageSize(64)
            .build();
    SyntheticDataGenerator b =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(3)
            .optImageSize(64)
            .optNumImages(7)
            .build();
    SyntheticDataGenerator other =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(4)
            .optImageSize(64)
            .build();
    for (int i = 0; i < 3; i++) {
      SyntheticDataGenerator.SyntheticImage x = a.generate(i);
      SyntheticDataGenerator.SyntheticImage y = b.generate(i);
      assertArrayEquals(pixels(x.getImage()), pixels(y.getImage()));
      assertEquals(x.getObjects().toString(), y.getObjects().toString());
      assertFalse(
          java.util.Arrays.equals(pixels(x.getImage()), pixels(other.generate(i).getImage())));
    }
  }

  @Test
  void bananaSetHasOneTightObjectPerImage() {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder().optSeed(1).optImageSize(64).optNumImages(10).build();
    assertEquals(List.of("banana"), g.getClassNames());
    for (int i = 0; i < 10; i++) {
      SyntheticDataGenerator.SyntheticImage si = g.generate(i);
      assertEquals(1, si.getObjects().size());
      ObjectAnnotation o = si.getObjects().get(0);
      assertEquals(1, o.getLabel());
      assertTrue(o.getX1() >= 1 && o.getY1() >= 1 && o.getX2() <= 63 && o.getY2() <= 63, "" + o);
      assertTrue(o.getX2() - o.getX1() >= 4 && o.getY2() - o.getY1() >= 2, "" + o);
      // integer boxes
      assertEquals(Math.rint(o.getX1()), o.getX1());
      assertEquals(Math.rint(o.getY2()), o.getY2());
    }
  }

  @Test
  void tinyBananaImagesStillHaveTheirBanana() {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder()
            .optSeed(9)
            .optImageSize(32)
            .optObjectSizeRange(0.15f, 0.2f)
            .build();
    for (int i = 0; i < 20; i++) {
      List<ObjectAnnotation> objs = g.generate(i).getObjects();
      assertEquals(1, objs.size(), "image " + i);
      assertTrue(objs.get(0).getX2() > objs.get(0).getX1());
    }
  }

  @Test
  void shapesSetUsesSeveralClassesAndObjects() {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optNumClasses(5)
            .optMaxObjects(5)
            .optSeed(2)
            .optImageSize(96)
            .build();
    assertEquals(List.of("ellipse", "rectangle", "triangle", "star", "cross"), g.getClassNames());
    Set<Integer> labels = new HashSet<>();
    int multi = 0;
    for (int i = 0; i < 20; i++) {
      List<ObjectAnnotation> objs = g.generate(i).getObjects();
      assertTrue(objs.size() >= 1 && objs.size() <= 5);
      if (objs.size() > 1) {
        multi++;
      }
      for (ObjectAnnotation o : objs) {
        labels.add(o.getLabel());
        assertTrue(o.getX1() >= 0 && o.getX2() <= 96 && o.getX1() < o.getX2());
      }
    }
    assertEquals(Set.of(1, 2, 3, 4, 5), labels);
    assertTrue(multi >= 5, "images with several objects: " + multi);
  }

  @Test
  void vocFilesRoundTripThroughTheReader(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(5)
            .optImageSize(64)
            .optNumImages(5)
            .build();
    AnnotationSet written = g.writeVoc(dir);
    assertTrue(Files.isRegularFile(dir.resolve("JPEGImages/000004.jpg")));
    assertEquals(
        List.of("000000", "000001", "000002", "000003"),
        Files.readAllLines(dir.resolve("ImageSets/Main/train.txt")));
    assertEquals(List.of("000004"), Files.readAllLines(dir.resolve("ImageSets/Main/val.txt")));
    AnnotationSet read = VocReader.builder().setRoot(dir).optSplit("trainval").build().read();
    assertEquals(g.getClassNames(), read.getClassNames());
    assertEquals(5, read.getImages().size());
    for (int i = 0; i < 5; i++) {
      ImageAnnotation w = written.getImages().get(i);
      ImageAnnotation r = read.getImages().get(i);
      assertEquals(w.getId(), r.getId());
      assertEquals(64, r.getWidth());
      assertEquals(w.getObjects().size(), r.getObjects().size());
      for (int k = 0; k < w.getObjects().size(); k++) {
        assertArrayEquals(w.getObjects().get(k).getBox(), r.getObjects().get(k).getBox());
        assertEquals(w.getObjects().get(k).getLabel(), r.getObjects().get(k).getLabel());
      }
    }
    assertTrue(read.getWarnings().isEmpty());
  }

  @Test
  void cocoFilesRoundTripThroughTheReader(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(8)
            .optImageSize(64)
            .optNumImages(3)
            .build();
    AnnotationSet written = g.writeCoco(dir, "val");
    AnnotationSet read =
        CocoReader.builder()
            .setAnnotationFile(dir.resolve("annotations/instances_val.json"))
            .optImageDir(dir.resolve("val"))
            .build()
            .read();
    assertEquals(g.getClassNames(), read.getClassNames());
    assertEquals(3, read.getImages().size());
    for (int i = 0; i < 3; i++) {
      assertEquals(written.getImages().get(i).getId(), read.getImages().get(i).getId());
      assertEquals(
          written.getImages().get(i).getObjects().toString(),
          read.getImages().get(i).getObjects().toString());
    }
  }

  @Test
  void csvFilesRoundTripThroughTheReader(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder().optSeed(6).optImageSize(64).optNumImages(4).build();
    AnnotationSet written = g.writeCsv(dir);
    List<String> lines = Files.readAllLines(dir.resolve("label.csv"));
    assertEquals("img_name,label,xmin,ymin,xmax,ymax", lines.get(0));
    assertTrue(lines.get(1).startsWith("0.png,0,"), lines.get(1));
    AnnotationSet read =
        CsvReader.builder()
            .setCsvFile(dir.resolve("label.csv"))
            .setClasses(g.getClassNames())
            .build()
            .read();
    assertEquals(4, read.getImages().size());
    for (int i = 0; i < 4; i++) {
      assertEquals(
          written.getImages().get(i).getObjects().toString(),
          read.getImages().get(i).getObjects().toString());
    }
    // without a class list the D2L integer label infers classes "0"
    AnnotationSet inferred =
        CsvReader.builder().setCsvFile(dir.resolve("label.csv")).build().read();
    assertEquals(List.of("0"), inferred.getClassNames());
    assertEquals(1, inferred.getImages().get(0).getObjects().get(0).getLabel());
  }
}
