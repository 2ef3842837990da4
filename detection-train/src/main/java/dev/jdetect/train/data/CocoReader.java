package dev.jdetect.train.data;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a COCO-style detection annotation file ({@code instances_*.json}).
 *
 * <p>Uses the {@code images} ({@code id, file_name, width, height}), {@code categories} ({@code id,
 * name}) and {@code annotations} ({@code image_id, category_id, bbox, area, iscrowd}) arrays. Boxes
 * are converted from COCO's {@code [x, y, w, h]} to {@code (x, y, x + w, y + h)}; COCO coordinates
 * are already continuous pixels, so nothing else changes. Category ids (which have gaps, 1..90 for
 * COCO 2017) are mapped to contiguous labels 1..C in increasing id order; {@link
 * AnnotationSet#getSourceClassId(int)} maps back. Crowd regions ({@code iscrowd = 1}) are kept with
 * {@link ObjectAnnotation#isCrowd()} set: the COCO evaluator matches them without counting and
 * {@link SampleData} leaves them out of training targets by default. The annotation's {@code area}
 * (the segmentation area) is kept in double precision for COCO's size ranges; when absent, the box
 * area is used. Boxes are kept as written, in double precision, also when they stick out of the
 * image by up to the tolerance (pycocotools evaluates them so); beyond it the {@link BoxPolicy}
 * decides. A UTF-8 byte order mark before the JSON is skipped. Images appear in the order of the
 * {@code images} array; their id is the numeric id as text.
 *
 * <p><b>Errors.</b> Malformed JSON always throws {@link DatasetFormatException} with the line from
 * the parser. Missing or wrongly typed fields, unknown {@code image_id}/{@code category_id}, bad
 * boxes and missing/corrupt images throw under {@link ErrorPolicy#FAIL} (the field is named as a
 * JSON path like {@code annotations[12].bbox}), or skip the annotation/image with a warning under
 * {@link ErrorPolicy#SKIP_WITH_WARNING}.
 */
public final class CocoReader {

  private static final Pattern LINE = Pattern.compile("line (\\d+)");

  private final Path annotationFile;
  private final Path imageDir;
  private final ErrorPolicy errorPolicy;
  private final BoxPolicy boxPolicy;
  private final AnnotationSet trainingClasses;
  private final float boxTolerance;
  private final boolean verifyImages;
  private final boolean skipImagesWithoutAnnotations;

  private CocoReader(Builder b) {
    this.annotationFile = Objects.requireNonNull(b.annotationFile, "annotationFile must be set");
    this.imageDir = Objects.requireNonNull(b.imageDir, "imageDir must be set");
    this.errorPolicy = b.errorPolicy;
    this.boxPolicy = b.boxPolicy;
    this.trainingClasses = b.trainingClasses;
    this.boxTolerance = b.boxTolerance;
    this.verifyImages = b.verifyImages;
    this.skipImagesWithoutAnnotations = b.skipImagesWithoutAnnotations;
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads the annotation file.
   *
   * @return the annotation set
   * @throws DatasetFormatException on malformed JSON, or on bad data under {@link ErrorPolicy#FAIL}
   */
  public AnnotationSet read() {
    // Boxes within the tolerance are kept as written: pycocotools evaluates them so.
    Problems problems = new Problems(errorPolicy, boxPolicy, false);
    JsonObject root = parse();
    JsonArray categories = array(root, "categories");
    JsonArray images = array(root, "images");
    JsonArray annotations = array(root, "annotations");

    TreeMap<Long, String> catNames = new TreeMap<>();
    for (int i = 0; i < categories.size(); i++) {
      String path = "categories[" + i + "]";
      JsonObject c = object(categories.get(i), path);
      long id = longField(c, "id", path);
      String name = stringField(c, "name", path);
      if (catNames.put(id, name) != null) {
        throw new DatasetFormatException(
            annotationFile, -1, path + ".id", "duplicate category id " + id);
      }
    }
    if (catNames.isEmpty()) {
      throw new DatasetFormatException(annotationFile, -1, "categories", "no categories");
    }
    Map<Long, Integer> catToLabel = new HashMap<>();
    List<String> classNames = new ArrayList<>();
    long[] sourceIds = new long[catNames.size()];
    for (Map.Entry<Long, String> e : catNames.entrySet()) {
      sourceIds[classNames.size()] = e.getKey();
      classNames.add(e.getValue());
      catToLabel.put(e.getKey(), classNames.size());
    }
    if (trainingClasses != null) {
      try {
        trainingClasses.requireSameClasses(
            new AnnotationSet(classNames, List.of(), List.of(), sourceIds),
            "training",
            annotationFile.getFileName().toString());
      } catch (IllegalArgumentException e) {
        throw new DatasetFormatException(annotationFile, -1, "categories", e.getMessage());
      }
    }

    Map<Long, ImageInfo> byId = new LinkedHashMap<>();
    for (int i = 0; i < images.size(); i++) {
      String path = "images[" + i + "]";
      try {
        JsonObject im = object(images.get(i), path);
        long id = longField(im, "id", path);
        String fileName = stringField(im, "file_name", path);
        int w = (int) longField(im, "width", path);
        int h = (int) longField(im, "height", path);
        if (w <= 0 || h <= 0) {
          throw new DatasetFormatException(
              annotationFile, -1, path, "image size must be positive, got " + w + "x" + h);
        }
        Path file = imageDir.resolve(fileName);
        if (verifyImages) {
          int[] wh = ImageFiles.readSize(file);
          if (wh[0] != w || wh[1] != h) {
            throw new DatasetFormatException(
                annotationFile,
                -1,
                path,
                "annotated size "
                    + w
                    + "x"
                    + h
                    + " differs from "
                    + file
                    + " "
                    + wh[0]
                    + "x"
                    + wh[1]);
          }
        } else if (!Files.isRegularFile(file)) {
          throw new DatasetFormatException(file, -1, null, "image file does not exist");
        }
        if (byId.put(id, new ImageInfo(id, file, w, h)) != null) {
          throw new DatasetFormatException(
              annotationFile, -1, path + ".id", "duplicate image id " + id);
        }
      } catch (DatasetFormatException e) {
        problems.report(e);
      }
    }

    for (int i = 0; i < annotations.size(); i++) {
      String path = "annotations[" + i + "]";
      try {
        JsonObject a = object(annotations.get(i), path);
        long imageId = longField(a, "image_id", path);
        ImageInfo info = byId.get(imageId);
        if (info == null) {
          throw new DatasetFormatException(
              annotationFile, -1, path + ".image_id", "unknown or skipped image id " + imageId);
        }
        long catId = longField(a, "category_id", path);
        Integer label = catToLabel.get(catId);
        if (label == null) {
          throw new DatasetFormatException(
              annotationFile, -1, path + ".category_id", "unknown category id " + catId);
        }
        JsonElement bboxEl = a.get("bbox");
        if (bboxEl == null || !bboxEl.isJsonArray() || bboxEl.getAsJsonArray().size() != 4) {
          throw new DatasetFormatException(
              annotationFile, -1, path + ".bbox", "bbox must be an array [x, y, w, h]");
        }
        double[] xywh = new double[4];
        for (int k = 0; k < 4; k++) {
          JsonElement v = bboxEl.getAsJsonArray().get(k);
          if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw new DatasetFormatException(
                annotationFile, -1, path + ".bbox[" + k + "]", "not a number: " + v);
          }
          xywh[k] = v.getAsDouble();
        }
        boolean crowd = a.has("iscrowd") && longField(a, "iscrowd", path) != 0;
        double[] box =
            problems.checkBox(
                new double[] {xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3]},
                info.width,
                info.height,
                boxTolerance,
                annotationFile,
                -1,
                path + ".bbox",
                String.valueOf(info.id));
        if (box == null) {
          continue;
        }
        // the file's area, in double precision: float32 moves areas near 32^2 and 96^2 across
        double area = (box[2] - box[0]) * (box[3] - box[1]);
        if (a.has("area")) {
          JsonElement ar = a.get("area");
          if (!ar.isJsonPrimitive() || !ar.getAsJsonPrimitive().isNumber()) {
            throw new DatasetFormatException(
                annotationFile, -1, path + ".area", "not a number: " + ar);
          }
          area = ar.getAsDouble();
        }
        info.objects.add(
            new ObjectAnnotation(label, box[0], box[1], box[2], box[3], false, crowd, area));
      } catch (DatasetFormatException e) {
        problems.report(e);
      }
    }

    List<ImageAnnotation> out = new ArrayList<>();
    for (ImageInfo info : byId.values()) {
      if (skipImagesWithoutAnnotations && info.objects.isEmpty()
          || problems.isImageSkipped(String.valueOf(info.id))) {
        continue;
      }
      out.add(
          new ImageAnnotation(
              String.valueOf(info.id), info.file, info.width, info.height, info.objects));
    }
    OutsideBoxCounts outside = problems.outsideBoxCounts();
    return new AnnotationSet(classNames, out, problems.warnings(), sourceIds, outside);
  }

  private JsonObject parse() {
    if (!Files.isRegularFile(annotationFile)) {
      throw new DatasetFormatException(annotationFile, -1, null, "annotation file does not exist");
    }
    try (Reader r = Files.newBufferedReader(annotationFile, StandardCharsets.UTF_8)) {
      r.mark(1);
      if (r.read() != TextLines.BOM) {
        r.reset();
      }
      JsonReader jr = new JsonReader(r);
      JsonElement el = new Gson().getAdapter(JsonElement.class).read(jr);
      if (el == null) {
        throw new DatasetFormatException(annotationFile, -1, null, "empty JSON document");
      }
      if (jr.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
        throw new DatasetFormatException(
            annotationFile, -1, null, "unexpected content after the top-level JSON value");
      }
      if (!el.isJsonObject()) {
        throw new DatasetFormatException(
            annotationFile, -1, "$", "top-level JSON value must be an object");
      }
      return el.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      Matcher m = LINE.matcher(msg);
      int line = m.find() ? Integer.parseInt(m.group(1)) : -1;
      throw new DatasetFormatException(annotationFile, line, null, "malformed JSON: " + msg, e);
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      Matcher m = LINE.matcher(msg);
      int line = m.find() ? Integer.parseInt(m.group(1)) : -1;
      throw new DatasetFormatException(annotationFile, line, null, "malformed JSON: " + msg, e);
    }
  }

  private JsonArray array(JsonObject root, String name) {
    JsonElement e = root.get(name);
    if (e == null || !e.isJsonArray()) {
      throw new DatasetFormatException(annotationFile, -1, name, "missing array '" + name + "'");
    }
    return e.getAsJsonArray();
  }

  private JsonObject object(JsonElement e, String path) {
    if (e == null || !e.isJsonObject()) {
      throw new DatasetFormatException(annotationFile, -1, path, "expected an object");
    }
    return e.getAsJsonObject();
  }

  private long longField(JsonObject o, String name, String path) {
    JsonElement e = o.get(name);
    if (e == null || e.isJsonNull()) {
      throw new DatasetFormatException(annotationFile, -1, path + "." + name, "missing field");
    }
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new DatasetFormatException(annotationFile, -1, path + "." + name, "not a number: " + e);
    }
    double d = e.getAsDouble();
    if (d != Math.rint(d)) {
      throw new DatasetFormatException(
          annotationFile, -1, path + "." + name, "not an integer: " + e);
    }
    return (long) d;
  }

  private String stringField(JsonObject o, String name, String path) {
    JsonElement e = o.get(name);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new DatasetFormatException(
          annotationFile, -1, path + "." + name, "missing or not a string");
    }
    return e.getAsString();
  }

  private static final class ImageInfo {
    final long id;
    final Path file;
    final int width;
    final int height;
    final List<ObjectAnnotation> objects = new ArrayList<>();

    ImageInfo(long id, Path file, int width, int height) {
      this.id = id;
      this.file = file;
      this.width = width;
      this.height = height;
    }
  }

  /** Builder for {@link CocoReader}. */
  public static final class Builder extends ReaderOptions<Builder> {
    private Path annotationFile;
    private Path imageDir;
    private AnnotationSet trainingClasses;
    private boolean verifyImages = true;
    private boolean skipImagesWithoutAnnotations;

    private Builder() {}

    @Override
    Builder self() {
      return this;
    }

    /**
     * Sets the JSON annotation file. Required.
     *
     * @param annotationFile e.g. {@code annotations/instances_val2017.json}
     * @return this builder
     */
    public Builder setAnnotationFile(Path annotationFile) {
      this.annotationFile = annotationFile;
      return this;
    }

    /**
     * Sets the folder holding the images named by {@code file_name}. Required.
     *
     * @param imageDir e.g. {@code val2017}
     * @return this builder
     */
    public Builder optImageDir(Path imageDir) {
      this.imageDir = imageDir;
      return this;
    }

    /**
     * Checks this file's categories against the training split's: every category must have the same
     * id and name in both, and neither split may have a category the other lacks. Use it when
     * reading a validation file, so that a renumbered or missing category stops the run before
     * training instead of giving wrong numbers.
     *
     * @param training the training split as read by another {@code CocoReader}
     * @return this builder
     */
    public Builder optTrainingCategories(AnnotationSet training) {
      this.trainingClasses = Objects.requireNonNull(training, "training");
      return this;
    }

    /**
     * Sets whether every image header is decoded while reading. Default true.
     *
     * @param verifyImages whether to decode headers
     * @return this builder
     */
    public Builder optVerifyImages(boolean verifyImages) {
      this.verifyImages = verifyImages;
      return this;
    }

    /**
     * Sets whether images without any (kept) annotation are left out, as torchvision's detection
     * references do for training. Default false.
     *
     * @param skip whether to leave them out
     * @return this builder
     */
    public Builder optSkipImagesWithoutAnnotations(boolean skip) {
      this.skipImagesWithoutAnnotations = skip;
      return this;
    }

    /**
     * Builds the reader.
     *
     * @return the reader
     */
    public CocoReader build() {
      return new CocoReader(this);
    }
  }
}
