package dev.jdetect.train.spark;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.translate.TranslateException;
import dev.jdetect.train.data.ImageFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Detects objects in one partition's images for {@link ObjectDetector}: reads the rows in batches,
 * decodes each batch's images on this executor, detects them with one {@code batchPredict} call of
 * the task's predictor, and returns each input row with its detections and error appended. Rows are
 * consumed lazily, so a partition holds at most one batch of decoded images; the predictor is
 * closed when the partition is done or the task ends.
 */
final class PartitionDetector implements Iterator<Row> {

  /**
   * What the executors need to know, fixed on the driver.
   *
   * @param modelDir the saved-model directory
   * @param inputIndex the input column's position
   * @param bytes whether the input column holds file bytes (else paths)
   * @param nameIndex the position of a path column naming the bytes in errors, or -1
   * @param batchSize images per {@code batchPredict} call
   * @param threshold score threshold on top of the model's
   * @param maxDetections detections kept per image
   */
  record Settings(
      String modelDir,
      int inputIndex,
      boolean bytes,
      int nameIndex,
      int batchSize,
      float threshold,
      int maxDetections)
      implements Serializable {}

  /** One image's outcome: the decoded image, then its detections, or the error. */
  private static final class Outcome {
    Image image;
    List<Row> detections;
    String error;
  }

  private final Settings settings;
  private final Iterator<Row> rows;
  private final ArrayDeque<Row> ready = new ArrayDeque<>();
  private ExecutorModels.LoadedModel model;
  private Predictor<Image, DetectedObjects> predictor;

  private PartitionDetector(Settings settings, Iterator<Row> rows) {
    this.settings = settings;
    this.rows = rows;
  }

  /**
   * Returns the partition's output rows, computed batch by batch as they are read.
   *
   * @param settings the transformer's settings
   * @param rows the partition's input rows
   * @return the input rows with the detections and the error appended
   */
  static Iterator<Row> detect(Settings settings, Iterator<Row> rows) {
    PartitionDetector detector = new PartitionDetector(settings, rows);
    TaskContext task = TaskContext.get();
    if (task != null) {
      // a consumer may stop early (limit, take): the task's end closes the predictor then
      task.addTaskCompletionListener((TaskCompletionListener) context -> detector.close());
    }
    return detector;
  }

  @Override
  public boolean hasNext() {
    if (ready.isEmpty() && rows.hasNext()) {
      detectBatch();
    }
    if (ready.isEmpty()) {
      close();
      return false;
    }
    return true;
  }

  @Override
  public Row next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return ready.poll();
  }

  private void detectBatch() {
    List<Row> batch = new ArrayList<>(settings.batchSize());
    while (batch.size() < settings.batchSize() && rows.hasNext()) {
      batch.add(rows.next());
    }
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    List<Outcome> decoded = new ArrayList<>(batch.size());
    for (Row row : batch) {
      Outcome o = new Outcome();
      try {
        o.image = ImageFactory.getInstance().fromImage(decode(row));
        decoded.add(o);
      } catch (IOException | RuntimeException e) {
        o.error = message(e);
      }
      outcomes.add(o);
    }
    if (!decoded.isEmpty()) {
      predict(decoded);
    }
    for (int i = 0; i < batch.size(); i++) {
      ready.add(output(batch.get(i), outcomes.get(i)));
    }
  }

  /** Detects the decoded images in one call; if that fails, image by image to find the culprit. */
  private void predict(List<Outcome> decoded) {
    Predictor<Image, DetectedObjects> p = predictor();
    List<Image> images = new ArrayList<>(decoded.size());
    decoded.forEach(o -> images.add(o.image));
    try {
      List<DetectedObjects> found = p.batchPredict(images);
      for (int i = 0; i < decoded.size(); i++) {
        decoded.get(i).detections = toRows(found.get(i), decoded.get(i).image);
      }
    } catch (TranslateException | RuntimeException batchFailure) {
      for (Outcome o : decoded) {
        try {
          o.detections = toRows(p.predict(o.image), o.image);
        } catch (TranslateException | RuntimeException e) {
          o.error = "detection failed: " + message(e);
        }
      }
    }
    decoded.forEach(o -> o.image = null); // the pixels are not needed any more
  }

  private BufferedImage decode(Row row) throws IOException {
    int at = settings.inputIndex();
    if (row.isNullAt(at)) {
      throw new IllegalArgumentException("no image (the input column is null)");
    }
    if (settings.bytes()) {
      String name = settings.nameIndex() >= 0 ? row.getString(settings.nameIndex()) : "image";
      return ImageFiles.read((byte[]) row.get(at), name == null ? "image" : name);
    }
    return readPath(row.getString(at));
  }

  /** Local paths and {@code file:} URIs directly, other URIs through Hadoop's file systems. */
  private static BufferedImage readPath(String path) throws IOException {
    URI uri = path.contains(":") ? URI.create(path) : null;
    if (uri == null || uri.getScheme() == null || uri.getScheme().length() == 1) {
      return ImageFiles.read(Path.of(path)); // a plain path (a one-letter scheme is a drive)
    }
    if (uri.getScheme().equals("file")) {
      return ImageFiles.read(Path.of(uri));
    }
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(uri);
    try (FileSystem fs = FileSystem.newInstance(uri, new Configuration());
        InputStream in = fs.open(file)) {
      return ImageFiles.read(in.readAllBytes(), path);
    }
  }

  /**
   * One image's detections in pixels, by descending score (ties in the model's order), at or above
   * the threshold, at most {@code maxDetections}.
   */
  private List<Row> toRows(DetectedObjects found, Image image) {
    List<DetectedObjects.DetectedObject> kept = new ArrayList<>();
    for (int i = 0; i < found.getNumberOfObjects(); i++) {
      DetectedObjects.DetectedObject o = found.item(i);
      if (o.getProbability() >= settings.threshold()) {
        kept.add(o);
      }
    }
    kept.sort(Comparator.comparingDouble(o -> -o.getProbability())); // stable
    int w = image.getWidth();
    int h = image.getHeight();
    List<Row> out = new ArrayList<>();
    for (DetectedObjects.DetectedObject o :
        kept.subList(0, Math.min(kept.size(), settings.maxDetections()))) {
      Rectangle r = o.getBoundingBox().getBounds();
      out.add(
          RowFactory.create(
              o.getClassName(),
              model.classId(o.getClassName()),
              (float) o.getProbability(),
              (float) (r.getX() * w),
              (float) (r.getY() * h),
              (float) ((r.getX() + r.getWidth()) * w),
              (float) ((r.getY() + r.getHeight()) * h)));
    }
    return out;
  }

  private static Row output(Row input, Outcome outcome) {
    Object[] values = new Object[input.length() + 2];
    for (int i = 0; i < input.length(); i++) {
      values[i] = input.get(i);
    }
    // Spark's row encoder takes arrays as Scala sequences
    values[input.length()] =
        outcome.detections == null
            ? null
            : CollectionConverters.asScala(outcome.detections).toSeq();
    values[input.length() + 1] = outcome.error;
    return RowFactory.create(values);
  }

  private Predictor<Image, DetectedObjects> predictor() {
    if (predictor == null) {
      model = ExecutorModels.get(settings.modelDir());
      predictor = model.model().newPredictor();
    }
    return predictor;
  }

  private void close() {
    if (predictor != null) {
      predictor.close();
      predictor = null;
    }
  }

  private static String message(Exception e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
