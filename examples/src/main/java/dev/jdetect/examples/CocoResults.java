package dev.jdetect.examples;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Writes detections as a COCO results file, the list {@code loadRes} of pycocotools reads: {@code
 * [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]} in image pixels.
 */
final class CocoResults {

  private CocoResults() {}

  /**
   * Streams a detection DataFrame to the file partition by partition (the driver holds one
   * partition's rows at a time).
   *
   * @param detections rows of {@code image_id} (long), {@code category_id} (long), {@code score},
   *     {@code xmin}, {@code ymin}, {@code xmax}, {@code ymax} (float), in this order
   * @param file the JSON file
   * @return the number of detections written
   * @throws IOException if writing fails
   */
  static long write(Dataset<Row> detections, Path file) throws IOException {
    long n = 0;
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        JsonWriter json = new JsonWriter(out)) {
      json.beginArray();
      for (Iterator<Row> it = detections.toLocalIterator(); it.hasNext(); n++) {
        Row r = it.next();
        float x = r.getFloat(3);
        float y = r.getFloat(4);
        json.beginObject();
        json.name("image_id").value(r.getLong(0));
        json.name("category_id").value(r.getLong(1));
        json.name("bbox").beginArray();
        json.value(x).value(y).value(r.getFloat(5) - x).value(r.getFloat(6) - y);
        json.endArray();
        json.name("score").value(r.getFloat(2));
        json.endObject();
      }
      json.endArray();
    }
    return n;
  }
}
