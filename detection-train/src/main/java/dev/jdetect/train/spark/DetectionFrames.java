package dev.jdetect.train.spark;

import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ObjectAnnotation;
import dev.jdetect.train.eval.GroundTruth;
import dev.jdetect.train.eval.Predictions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The DataFrame layouts of ground truth and detections, and readers of annotation sets ({@code
 * VocReader}, {@code CocoReader}, {@code CsvReader}) into them.
 *
 * <p><b>Ground truth</b>, one row per image ({@link #GROUND_TRUTH_SCHEMA}): {@code image_id}
 * (long), {@code image_name} (string), {@code file} (string), {@code width}, {@code height} (int),
 * {@code objects}: {@code array<struct<class_id:int, xmin:double, ymin:double, xmax:double,
 * ymax:double, difficult:boolean, crowd:boolean, area:double>>} in image pixels, class ids 1..C,
 * {@code area} null for the box area. Images without objects have an empty array.
 *
 * <p><b>Detections</b>, one row per detection ({@link #PREDICTION_SCHEMA}): {@code image_id}
 * (long), {@code class_id} (int, 1..C), {@code score} (double), {@code xmin}, {@code ymin}, {@code
 * xmax}, {@code ymax} (double, the ground truth's pixels). Other numeric types are cast.
 */
public final class DetectionFrames {

  /** The columns of one ground-truth object. */
  public static final StructType OBJECT_SCHEMA =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("class_id", DataTypes.IntegerType, false),
            DataTypes.createStructField("xmin", DataTypes.DoubleType, false),
            DataTypes.createStructField("ymin", DataTypes.DoubleType, false),
            DataTypes.createStructField("xmax", DataTypes.DoubleType, false),
            DataTypes.createStructField("ymax", DataTypes.DoubleType, false),
            DataTypes.createStructField("difficult", DataTypes.BooleanType, false),
            DataTypes.createStructField("crowd", DataTypes.BooleanType, false),
            DataTypes.createStructField("area", DataTypes.DoubleType, true)
          });

  /** One row per image with its objects. */
  public static final StructType GROUND_TRUTH_SCHEMA =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.LongType, false),
            DataTypes.createStructField("image_name", DataTypes.StringType, true),
            DataTypes.createStructField("file", DataTypes.StringType, true),
            DataTypes.createStructField("width", DataTypes.IntegerType, true),
            DataTypes.createStructField("height", DataTypes.IntegerType, true),
            DataTypes.createStructField(
                "objects", DataTypes.createArrayType(OBJECT_SCHEMA, false), false)
          });

  /** One row per detection. */
  public static final StructType PREDICTION_SCHEMA =
      new StructType(
          new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.LongType, false),
            DataTypes.createStructField("class_id", DataTypes.IntegerType, false),
            DataTypes.createStructField("score", DataTypes.DoubleType, false),
            DataTypes.createStructField("xmin", DataTypes.DoubleType, false),
            DataTypes.createStructField("ymin", DataTypes.DoubleType, false),
            DataTypes.createStructField("xmax", DataTypes.DoubleType, false),
            DataTypes.createStructField("ymax", DataTypes.DoubleType, false)
          });

  private DetectionFrames() {}

  /**
   * Reads an annotation set into a ground-truth DataFrame: {@code image_id} is the image's index in
   * the set, {@code image_name} its id in the annotations (VOC file stem, COCO image id), objects
   * in their order in the annotations. The set is read on the driver; the rows are spread over the
   * cluster.
   *
   * @param spark the session
   * @param annotations the annotations, e.g. from {@code VocReader} or {@code CocoReader}
   * @return the DataFrame, {@link #GROUND_TRUTH_SCHEMA}
   */
  public static Dataset<Row> groundTruth(SparkSession spark, AnnotationSet annotations) {
    List<Row> rows = new ArrayList<>();
    List<ImageAnnotation> images = annotations.getImages();
    for (int i = 0; i < images.size(); i++) {
      ImageAnnotation image = images.get(i);
      List<Row> objects = new ArrayList<>();
      for (ObjectAnnotation o : image.getObjects()) {
        double[] box = o.getBoxAsDouble();
        objects.add(
            RowFactory.create(
                o.getLabel(),
                box[0],
                box[1],
                box[2],
                box[3],
                o.isDifficult(),
                o.isCrowd(),
                o.getArea() >= 0 ? o.getArea() : null));
      }
      rows.add(
          RowFactory.create(
              (long) i,
              image.getId(),
              image.getFile() == null ? null : image.getFile().toString(),
              image.getWidth(),
              image.getHeight(),
              objects));
    }
    return spark.createDataFrame(rows, GROUND_TRUTH_SCHEMA);
  }

  /**
   * Returns a column of a DataFrame, or throws naming the missing column and the columns there are.
   */
  static Column column(Dataset<Row> frame, String name, String what) {
    if (!Arrays.asList(frame.columns()).contains(name)) {
      throw new IllegalArgumentException(
          what
              + " need a column '"
              + name
              + "', found "
              + Arrays.toString(frame.columns())
              + " (layouts: DetectionFrames)");
    }
    return frame.col(name);
  }

  /** Reads the {@code objects} of a ground-truth row (objects in their stored order). */
  static GroundTruth groundTruth(List<Row> objects) {
    GroundTruth.Builder b = GroundTruth.builder();
    for (Row o : objects) {
      b.add(
          o.getInt(0),
          o.getDouble(1),
          o.getDouble(2),
          o.getDouble(3),
          o.getDouble(4),
          o.getBoolean(5),
          o.getBoolean(6),
          o.isNullAt(7) ? -1 : o.getDouble(7));
    }
    return b.build();
  }

  /**
   * Reads one image's detection structs {@code (class_id, score, xmin, ymin, xmax, ymax)}. Spark
   * gathers them in no fixed order, so they are put in one: descending score, then class and
   * coordinates; detections that tie on all of these are identical.
   */
  static Predictions predictions(List<Row> detections) {
    Row[] sorted = detections.toArray(new Row[0]);
    Comparator<Row> order =
        Comparator.<Row>comparingDouble(r -> -r.getDouble(1)).thenComparingInt(r -> r.getInt(0));
    for (int k = 2; k < 6; k++) {
      int column = k;
      order = order.thenComparingDouble(r -> r.getDouble(column));
    }
    Arrays.sort(sorted, order);
    Predictions.Builder b = Predictions.builder();
    for (Row r : sorted) {
      b.add(
          r.getInt(0),
          r.getDouble(1),
          r.getDouble(2),
          r.getDouble(3),
          r.getDouble(4),
          r.getDouble(5));
    }
    return b.build();
  }
}
