package dev.jdetect.examples;

import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.util.JsonUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON {@link Detect} writes for an image: its file, size and detections (class, score, box
 * relative to the image as {@code x, y, w, h} and in its pixels as {@code x1, y1, x2, y2}), or the
 * reason it failed.
 */
public final class DetectionJson {

  private DetectionJson() {}

  /**
   * Returns the result of one image as a JSON object.
   *
   * @param file the image file
   * @param width its width in pixels
   * @param height its height in pixels
   * @param found its detections, boxes relative to the image
   * @return the object, ready for Gson
   */
  public static Map<String, Object> of(Path file, int width, int height, DetectedObjects found) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("image", file.toString());
    root.put("width", width);
    root.put("height", height);
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i = 0; i < found.getNumberOfObjects(); i++) {
      DetectedObjects.DetectedObject o = found.item(i);
      Rectangle r = o.getBoundingBox().getBounds();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("class", o.getClassName());
      m.put("score", o.getProbability());
      m.put("box_relative_xywh", List.of(r.getX(), r.getY(), r.getWidth(), r.getHeight()));
      m.put(
          "box_pixels_xyxy",
          List.of(
              r.getX() * width,
              r.getY() * height,
              (r.getX() + r.getWidth()) * width,
              (r.getY() + r.getHeight()) * height));
      list.add(m);
    }
    root.put("detections", list);
    return root;
  }

  /**
   * Returns the record of an image that could not be processed.
   *
   * @param file the image file
   * @param reason what went wrong
   * @return the object, ready for Gson
   */
  static Map<String, Object> failure(Path file, String reason) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("image", file.toString());
    root.put("error", reason);
    return root;
  }

  /**
   * Formats an object as indented JSON.
   *
   * @param json the object
   * @return the text with a final newline
   */
  static String pretty(Map<String, Object> json) {
    return JsonUtils.GSON_PRETTY.toJson(json) + "\n";
  }

  /**
   * Formats an object as one JSON Lines line.
   *
   * @param json the object
   * @return the text with a final newline
   */
  public static String line(Map<String, Object> json) {
    return JsonUtils.GSON.toJson(json) + "\n";
  }
}
