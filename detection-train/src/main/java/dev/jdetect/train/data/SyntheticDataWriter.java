package dev.jdetect.train.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** Writes the images of a {@link SyntheticDataGenerator} as real CSV, VOC and COCO datasets. */
final class SyntheticDataWriter {

  private final SyntheticDataGenerator generator;
  private final int numImages;
  private final int imageSize;
  private final float trainFraction;

  SyntheticDataWriter(
      SyntheticDataGenerator generator, int numImages, int imageSize, float trainFraction) {
    this.generator = generator;
    this.numImages = numImages;
    this.imageSize = imageSize;
    this.trainFraction = trainFraction;
  }

  /**
   * Writes the set in the CSV (D2L banana) layout: {@code dir/images/<i>.png} and {@code
   * dir/label.csv} with rows {@code img_name,label,xmin,ymin,xmax,ymax} where {@code label} is the
   * 0-based class index (as D2L writes it) and coordinates are the integer continuous-pixel box.
   * Read it back with {@code CsvReader.builder().setCsvFile(dir.resolve("label.csv"))
   * .setClasses(generator.generator.getClassNames())}.
   *
   * @param dir the output folder (created if needed)
   * @return the annotations of the written files
   * @throws IOException if writing fails
   */
  AnnotationSet writeCsv(Path dir) throws IOException {
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    List<ImageAnnotation> out = new ArrayList<>();
    try (Writer w = Files.newBufferedWriter(dir.resolve("label.csv"), StandardCharsets.UTF_8)) {
      w.write("img_name,label,xmin,ymin,xmax,ymax\n");
      for (int i = 0; i < numImages; i++) {
        SyntheticDataGenerator.SyntheticImage si = generator.generate(i);
        String name = i + ".png";
        Path file = images.resolve(name);
        writeImage(si.getImage(), "png", 0.75f, file);
        for (ObjectAnnotation o : si.getObjects()) {
          w.write(
              String.format(
                  Locale.ROOT,
                  "%s,%d,%d,%d,%d,%d%n",
                  name,
                  o.getLabel() - 1,
                  (int) o.getX1(),
                  (int) o.getY1(),
                  (int) o.getX2(),
                  (int) o.getY2()));
        }
        if (si.getObjects().isEmpty()) {
          w.write(name + ",,,,,\n");
        }
        out.add(new ImageAnnotation(name, file, imageSize, imageSize, si.getObjects()));
      }
    }
    return new AnnotationSet(generator.getClassNames(), out);
  }

  /**
   * Writes the set in the VOCdevkit layout under {@code root}: {@code JPEGImages/<id>.jpg} (quality
   * 0.95), {@code Annotations/<id>.xml} (1-based inclusive coordinates, see {@link VocReader}),
   * {@code ImageSets/Main/train.txt}, {@code val.txt} and {@code trainval.txt} (the first {@code
   * trainFraction} of the images are train), and {@code classes.txt}. Ids are {@code 000000,
   * 000001, ...}.
   *
   * @param root the output folder (created if needed)
   * @return the annotations of all written images (trainval)
   * @throws IOException if writing fails
   */
  AnnotationSet writeVoc(Path root) throws IOException {
    Path jpeg = root.resolve("JPEGImages");
    Path ann = root.resolve("Annotations");
    Path sets = root.resolve("ImageSets").resolve("Main");
    Files.createDirectories(jpeg);
    Files.createDirectories(ann);
    Files.createDirectories(sets);
    Files.write(root.resolve("classes.txt"), generator.getClassNames(), StandardCharsets.UTF_8);
    int numTrain = Math.round(numImages * trainFraction);
    List<String> train = new ArrayList<>();
    List<String> val = new ArrayList<>();
    List<String> all = new ArrayList<>();
    List<ImageAnnotation> out = new ArrayList<>();
    for (int i = 0; i < numImages; i++) {
      SyntheticDataGenerator.SyntheticImage si = generator.generate(i);
      String id = String.format(Locale.ROOT, "%06d", i);
      Path file = jpeg.resolve(id + ".jpg");
      writeImage(si.getImage(), "jpg", 0.95f, file);
      Files.writeString(ann.resolve(id + ".xml"), vocXml(id, si), StandardCharsets.UTF_8);
      (i < numTrain ? train : val).add(id);
      all.add(id);
      out.add(new ImageAnnotation(id, file, imageSize, imageSize, si.getObjects()));
    }
    Files.write(sets.resolve("train.txt"), train, StandardCharsets.UTF_8);
    Files.write(sets.resolve("val.txt"), val, StandardCharsets.UTF_8);
    Files.write(sets.resolve("trainval.txt"), all, StandardCharsets.UTF_8);
    return new AnnotationSet(generator.getClassNames(), out);
  }

  /**
   * Writes the set in the COCO layout: {@code root/<split>/<id>.jpg} (quality 0.95, ids {@code
   * 000001, ...}) and {@code root/annotations/instances_<split>.json} with image ids 1..N, category
   * ids 1..C, {@code bbox = [x, y, w, h]}, {@code area = w * h} and {@code iscrowd = 0}. Read it
   * back with {@code CocoReader.builder().setAnnotationFile(...).optImageDir(root
   * .resolve(split))}.
   *
   * @param root the output folder (created if needed)
   * @param split the split name, e.g. {@code "train"}
   * @return the annotations of the written images (ids as written: "1", "2", ...)
   * @throws IOException if writing fails
   */
  AnnotationSet writeCoco(Path root, String split) throws IOException {
    Objects.requireNonNull(split, "split");
    Path imageDir = root.resolve(split);
    Path annDir = root.resolve("annotations");
    Files.createDirectories(imageDir);
    Files.createDirectories(annDir);
    List<ImageAnnotation> out = new ArrayList<>();
    try (com.google.gson.stream.JsonWriter w =
        new com.google.gson.stream.JsonWriter(
            Files.newBufferedWriter(
                annDir.resolve("instances_" + split + ".json"), StandardCharsets.UTF_8))) {
      w.beginObject();
      w.name("categories").beginArray();
      for (int c = 0; c < generator.getClassNames().size(); c++) {
        w.beginObject()
            .name("id")
            .value(c + 1)
            .name("name")
            .value(generator.getClassNames().get(c));
        w.endObject();
      }
      w.endArray();
      List<List<ObjectAnnotation>> generated = new ArrayList<>();
      w.name("images").beginArray();
      for (int i = 0; i < numImages; i++) {
        SyntheticDataGenerator.SyntheticImage si = generator.generate(i);
        String name = String.format(Locale.ROOT, "%06d.jpg", i + 1);
        Path file = imageDir.resolve(name);
        writeImage(si.getImage(), "jpg", 0.95f, file);
        w.beginObject().name("id").value(i + 1).name("file_name").value(name);
        w.name("width").value(imageSize).name("height").value(imageSize).endObject();
        out.add(new ImageAnnotation("" + (i + 1), file, imageSize, imageSize, si.getObjects()));
        generated.add(si.getObjects());
      }
      w.endArray();
      w.name("annotations").beginArray();
      int annId = 1;
      for (int i = 0; i < generated.size(); i++) {
        for (ObjectAnnotation o : generated.get(i)) {
          float bw = o.getX2() - o.getX1();
          float bh = o.getY2() - o.getY1();
          w.beginObject().name("id").value(annId++).name("image_id").value(i + 1);
          w.name("category_id").value(o.getLabel());
          w.name("bbox").beginArray().value((int) o.getX1()).value((int) o.getY1());
          w.value((int) bw).value((int) bh).endArray();
          w.name("area").value((int) (bw * bh)).name("iscrowd").value(0).endObject();
        }
      }
      w.endArray();
      w.endObject();
    }
    return new AnnotationSet(generator.getClassNames(), out);
  }

  private String vocXml(String id, SyntheticDataGenerator.SyntheticImage si) {
    StringBuilder sb = new StringBuilder();
    sb.append("<annotation>\n");
    sb.append("  <folder>synthetic</folder>\n");
    sb.append("  <filename>").append(id).append(".jpg</filename>\n");
    sb.append("  <size>\n    <width>").append(imageSize).append("</width>\n    <height>");
    sb.append(imageSize).append("</height>\n    <depth>3</depth>\n  </size>\n");
    for (ObjectAnnotation o : si.getObjects()) {
      sb.append("  <object>\n    <name>").append(generator.getClassNames().get(o.getLabel() - 1));
      sb.append("</name>\n    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n");
      sb.append("    <difficult>0</difficult>\n    <bndbox>\n");
      sb.append("      <xmin>").append((int) o.getX1() + 1).append("</xmin>\n");
      sb.append("      <ymin>").append((int) o.getY1() + 1).append("</ymin>\n");
      sb.append("      <xmax>").append((int) o.getX2()).append("</xmax>\n");
      sb.append("      <ymax>").append((int) o.getY2()).append("</ymax>\n");
      sb.append("    </bndbox>\n  </object>\n");
    }
    sb.append("</annotation>\n");
    return sb.toString();
  }

  /** Writes with an explicit compression quality (JPEG: quality; PNG: speed over size). */
  private static void writeImage(BufferedImage img, String format, float quality, Path file)
      throws IOException {
    java.util.Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
    if (!writers.hasNext()) {
      throw new IOException("no " + format + " writer available");
    }
    ImageWriter writer = writers.next();
    Files.deleteIfExists(file);
    try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      if (p.canWriteCompressed()) {
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality);
      }
      writer.write(null, new IIOImage(img, null, null), p);
    } finally {
      writer.dispose();
    }
  }
}
