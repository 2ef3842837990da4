package dev.jdetect.examples;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.train.data.ImageFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The one place {@link SparkDetect} touches the inference API: one DJL {@link ZooModel} per
 * executor JVM and model directory, loaded through {@code Criteria} on first use and shared by that
 * JVM's tasks (each task predicts with its own {@link Predictor} over the one copy of the weights),
 * and the conversion of one image's bytes into a result row (detections in image pixels, or the
 * error).
 */
final class ExecutorDetector {

  /** A detection of the output column. */
  static final StructType DETECTION =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("label", DataTypes.StringType, false),
            DataTypes.createStructField("class_id", DataTypes.IntegerType, false),
            DataTypes.createStructField("score", DataTypes.FloatType, false),
            DataTypes.createStructField("xmin", DataTypes.FloatType, false),
            DataTypes.createStructField("ymin", DataTypes.FloatType, false),
            DataTypes.createStructField("xmax", DataTypes.FloatType, false),
            DataTypes.createStructField("ymax", DataTypes.FloatType, false)
          });

  /** A result row: the image, its size, its detections, or the error that stopped it. */
  static final StructType RESULT =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("width", DataTypes.IntegerType, true),
            DataTypes.createStructField("height", DataTypes.IntegerType, true),
            DataTypes.createStructField(
                "detections", DataTypes.createArrayType(DETECTION, false), true),
            DataTypes.createStructField("error", DataTypes.StringType, true)
          });

  private static final Map<String, Loaded> LOADED = new ConcurrentHashMap<>();

  /** A loaded model and its class names (class id k is {@code classes.get(k - 1)}). */
  record Loaded(ZooModel<Image, DetectedObjects> model, List<String> classes) {}

  private ExecutorDetector() {}

  /** This JVM's model for a model directory (loaded once). */
  static Loaded get(String modelDir) {
    return LOADED.computeIfAbsent(
        modelDir,
        dir -> {
          try {
            ModelDescription description = SavedModel.checkFormat(Path.of(dir));
            ZooModel<Image, DetectedObjects> model =
                Criteria.builder()
                    .setTypes(Image.class, DetectedObjects.class)
                    .optModelPath(Path.of(dir))
                    .optEngine("PyTorch")
                    .optTranslatorFactory(new DetectionTranslatorFactory())
                    .build()
                    .loadModel();
            return new Loaded(model, description.getClasses());
          } catch (IOException e) {
            throw new UncheckedIOException("cannot load the model " + dir, e);
          } catch (ModelNotFoundException | MalformedModelException e) {
            throw new IllegalStateException("cannot load the model " + dir + ": " + e, e);
          }
        });
  }

  /**
   * Detects objects in one image file's bytes; a file that cannot be decoded gives a row with the
   * error set and no detections.
   */
  static Row detect(String modelDir, String path, byte[] content) {
    Image image;
    try {
      // ImageFiles decodes as a viewer shows (EXIF orientation, CMYK JPEGs); it reads files
      Path copy = Files.createTempFile("jdetect-image-", ".bin");
      try {
        Files.write(copy, content);
        image = ImageFactory.getInstance().fromImage(ImageFiles.read(copy));
      } finally {
        Files.deleteIfExists(copy);
      }
    } catch (IOException | RuntimeException e) {
      return RowFactory.create(path, null, null, null, String.valueOf(e.getMessage()));
    }
    Loaded loaded = get(modelDir);
    DetectedObjects found;
    try (Predictor<Image, DetectedObjects> predictor = loaded.model().newPredictor()) {
      found = predictor.predict(image);
    } catch (TranslateException e) {
      return RowFactory.create(path, null, null, null, "detection failed: " + e.getMessage());
    }
    List<String> classes = loaded.classes();
    List<Row> detections = new ArrayList<>();
    int w = image.getWidth();
    int h = image.getHeight();
    for (int i = 0; i < found.getNumberOfObjects(); i++) {
      DetectedObjects.DetectedObject o = found.item(i);
      Rectangle r = o.getBoundingBox().getBounds();
      detections.add(
          RowFactory.create(
              o.getClassName(),
              classes.indexOf(o.getClassName()) + 1,
              (float) o.getProbability(),
              (float) (r.getX() * w),
              (float) (r.getY() * h),
              (float) ((r.getX() + r.getWidth()) * w),
              (float) ((r.getY() + r.getHeight()) * h)));
    }
    // Spark's row encoder takes arrays as Scala sequences
    return RowFactory.create(path, w, h, CollectionConverters.asScala(detections).toSeq(), null);
  }
}
