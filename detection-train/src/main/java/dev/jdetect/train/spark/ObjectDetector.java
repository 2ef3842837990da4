package dev.jdetect.train.spark;

import dev.jdetect.models.inference.SavedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that detects objects in a DataFrame of images with a saved jdetect
 * model (a directory {@code SavedModel.save} wrote), so detection is a stage of a {@code Pipeline}.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("/data/images");
 * ObjectDetector detector = new ObjectDetector()
 *     .setModelLocation("/models/ssd")   // on storage every executor reads
 *     .setBatchSize(8)
 *     .setScoreThreshold(0.3);
 * Dataset<Row> found = detector.transform(images);   // + detections, error
 * }</pre>
 *
 * <p><b>Input.</b> The input column (default {@code content}) holds either the bytes of image files
 * ({@code binary}, as Spark's {@code binaryFile} source reads them) or their paths ({@code string}:
 * local paths, {@code file:} URIs, or any Hadoop file system's URIs). Images are read and decoded
 * on the executors, as a viewer shows them (EXIF orientation, CMYK JPEGs); nothing reaches the
 * driver.
 *
 * <p><b>Output.</b> Every input column, then the output column (default {@code detections}) of type
 * {@link #DETECTIONS}: {@code array<struct<label:string, class_id:int, score:float, xmin:float,
 * ymin:float, xmax:float, ymax:float>>}, boxes in the image's pixels, by descending score; and the
 * error column (default {@code error}), null when the image was detected. An image that cannot be
 * read or decoded (corrupt, empty, missing) gets null detections and the error, and the job goes
 * on. Detections below the model's own threshold ({@code model.json}) are never returned; the
 * {@code scoreThreshold} param drops more, and {@code maxDetections} keeps the best ones.
 *
 * <p><b>Execution.</b> Each executor JVM loads the model once, on first use, and keeps it for the
 * JVM's life; its tasks share the one copy of the weights, each task through its own DJL predictor,
 * detecting {@code batchSize} images per call. One predictor per task is the right number: Spark
 * already runs one task per core, and PyTorch's intra-op threads ({@code
 * ai.djl.pytorch.num_threads} in the executors' Java options; set it to the cores per task) use the
 * cores a task has.
 *
 * <p>{@link #transformSchema} (so {@code Pipeline.fit}) and {@link #transform} check on the driver
 * that the model directory holds a saved model and that the input column exists with a usable type,
 * and throw {@link IllegalArgumentException} saying which is wrong. The transformer saves and loads
 * with Spark ML's {@code write()} / {@link #load}.
 */
public final class ObjectDetector extends Transformer implements DefaultParamsWritable {

  private static final long serialVersionUID = 1L;

  /** One detection of the output column. */
  public static final StructType DETECTION =
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

  /** The output column's type: one image's detections. */
  public static final ArrayType DETECTIONS = DataTypes.createArrayType(DETECTION, false);

  private final String uid;
  private final Param<String> modelLocation;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> errorCol;
  private final IntParam batchSize;
  private final DoubleParam scoreThreshold;
  private final IntParam maxDetections;

  /** Creates a detector with a random uid and the default params. */
  public ObjectDetector() {
    this(Identifiable$.MODULE$.randomUID("objectDetector"));
  }

  /**
   * Creates a detector with the default params (Spark ML's loader calls this).
   *
   * @param uid the uid
   */
  public ObjectDetector(String uid) {
    this.uid = uid;
    // Params need the uid, which Java sets only after field initialisers have run
    modelLocation =
        new Param<>(this, "modelLocation", "saved jdetect model directory, read by every executor");
    inputCol =
        new Param<>(this, "inputCol", "column of image file bytes (binary) or paths (string)");
    outputCol = new Param<>(this, "outputCol", "column of the detections, in image pixels");
    errorCol = new Param<>(this, "errorCol", "column of the error of an image, null when ok");
    batchSize =
        new IntParam(this, "batchSize", "images per model call (>= 1)", ParamValidators.gtEq(1));
    scoreThreshold =
        new DoubleParam(
            this,
            "scoreThreshold",
            "keeps detections scoring at least this, on top of the model's threshold, in [0, 1]",
            ParamValidators.inRange(0, 1));
    maxDetections =
        new IntParam(
            this,
            "maxDetections",
            "keeps at most this many detections per image, the best ones (>= 1; default all)",
            ParamValidators.gtEq(1));
    setDefault(inputCol, "content");
    setDefault(outputCol, "detections");
    setDefault(errorCol, "error");
    setDefault(batchSize, 8);
    setDefault(scoreThreshold, 0.0);
  }

  /**
   * Returns the reader of saved detectors ({@code detector.write().save(path)}).
   *
   * @return the reader
   */
  public static MLReader<ObjectDetector> read() {
    return new DefaultParamsReader<>();
  }

  /**
   * Loads a detector that {@code write().save(path)} saved.
   *
   * @param path where it was saved
   * @return the detector
   */
  public static ObjectDetector load(String path) {
    return read().load(path);
  }

  /** {@inheritDoc} */
  @Override
  public String uid() {
    return uid;
  }

  /**
   * The saved-model directory (required).
   *
   * @return the param
   */
  public Param<String> modelLocation() {
    return modelLocation;
  }

  /**
   * The input column: image file bytes ({@code binary}) or paths ({@code string}); default {@code
   * content}.
   *
   * @return the param
   */
  public Param<String> inputCol() {
    return inputCol;
  }

  /**
   * The output column of detections; default {@code detections}.
   *
   * @return the param
   */
  public Param<String> outputCol() {
    return outputCol;
  }

  /**
   * The error column; default {@code error}.
   *
   * @return the param
   */
  public Param<String> errorCol() {
    return errorCol;
  }

  /**
   * Images per model call; default 8.
   *
   * @return the param
   */
  public IntParam batchSize() {
    return batchSize;
  }

  /**
   * The score threshold on top of the model's own; default 0.
   *
   * @return the param
   */
  public DoubleParam scoreThreshold() {
    return scoreThreshold;
  }

  /**
   * The largest number of detections per image; default: all.
   *
   * @return the param
   */
  public IntParam maxDetections() {
    return maxDetections;
  }

  /**
   * Returns the saved-model directory.
   *
   * @return the directory, or {@code null} when not set
   */
  public String getModelLocation() {
    return isDefined(modelLocation) ? getOrDefault(modelLocation) : null;
  }

  /**
   * Sets the saved-model directory; on a cluster it must be on storage every executor reads.
   *
   * @param dir the directory
   * @return this detector
   */
  public ObjectDetector setModelLocation(String dir) {
    set(modelLocation, dir);
    return this;
  }

  /**
   * Returns the input column.
   *
   * @return the column name
   */
  public String getInputCol() {
    return getOrDefault(inputCol);
  }

  /**
   * Sets the input column.
   *
   * @param column a binary column of image file bytes or a string column of image paths
   * @return this detector
   */
  public ObjectDetector setInputCol(String column) {
    set(inputCol, column);
    return this;
  }

  /**
   * Returns the output column.
   *
   * @return the column name
   */
  public String getOutputCol() {
    return getOrDefault(outputCol);
  }

  /**
   * Sets the output column.
   *
   * @param column a column name not in the input
   * @return this detector
   */
  public ObjectDetector setOutputCol(String column) {
    set(outputCol, column);
    return this;
  }

  /**
   * Returns the error column.
   *
   * @return the column name
   */
  public String getErrorCol() {
    return getOrDefault(errorCol);
  }

  /**
   * Sets the error column.
   *
   * @param column a column name not in the input
   * @return this detector
   */
  public ObjectDetector setErrorCol(String column) {
    set(errorCol, column);
    return this;
  }

  /**
   * Returns the images per model call.
   *
   * @return the batch size
   */
  public int getBatchSize() {
    return (Integer) getOrDefault(batchSize);
  }

  /**
   * Sets the images per model call.
   *
   * @param size at least 1
   * @return this detector
   */
  public ObjectDetector setBatchSize(int size) {
    set(batchSize, size);
    return this;
  }

  /**
   * Returns the score threshold on top of the model's.
   *
   * @return the threshold
   */
  public double getScoreThreshold() {
    return (Double) getOrDefault(scoreThreshold);
  }

  /**
   * Sets the score threshold on top of the model's.
   *
   * @param threshold in {@code [0, 1]}
   * @return this detector
   */
  public ObjectDetector setScoreThreshold(double threshold) {
    set(scoreThreshold, threshold);
    return this;
  }

  /**
   * Returns the largest number of detections per image.
   *
   * @return the limit, or {@link Integer#MAX_VALUE} when not set
   */
  public int getMaxDetections() {
    return isDefined(maxDetections) ? (Integer) getOrDefault(maxDetections) : Integer.MAX_VALUE;
  }

  /**
   * Sets the largest number of detections per image (the best ones are kept).
   *
   * @param limit at least 1
   * @return this detector
   */
  public ObjectDetector setMaxDetections(int limit) {
    set(maxDetections, limit);
    return this;
  }

  /**
   * Checks the model directory and the input column, and returns the output schema: the input's
   * columns, then the output column ({@link #DETECTIONS}) and the error column (string).
   *
   * @param schema the input schema
   * @return the output schema
   * @throws IllegalArgumentException if the model directory is not set or holds no saved model, the
   *     input column is missing or neither binary nor string, or an output column already exists
   */
  @Override
  public StructType transformSchema(StructType schema) {
    checkModel();
    inputType(schema);
    for (String column : new String[] {getOutputCol(), getErrorCol()}) {
      if (Arrays.asList(schema.fieldNames()).contains(column)) {
        throw new IllegalArgumentException(
            "output column '" + column + "' is already in the input; choose another name");
      }
    }
    if (getOutputCol().equals(getErrorCol())) {
      throw new IllegalArgumentException(
          "output and error columns are both '" + getOutputCol() + "'");
    }
    return schema.add(getOutputCol(), DETECTIONS, true).add(getErrorCol(), DataTypes.StringType);
  }

  /**
   * Detects objects in every row's image (see the class comment).
   *
   * @param dataset the images
   * @return the rows with the output and error columns appended
   * @throws IllegalArgumentException as {@link #transformSchema}
   */
  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType in = dataset.schema();
    StructType out = transformSchema(in, true);
    boolean bytes = inputType(in) == DataTypes.BinaryType;
    int nameIndex = -1;
    if (bytes && Arrays.asList(in.fieldNames()).contains("path")) {
      // binaryFile's path column names the file in error messages
      nameIndex = in.apply("path").dataType() == DataTypes.StringType ? in.fieldIndex("path") : -1;
    }
    PartitionDetector.Settings settings =
        new PartitionDetector.Settings(
            Path.of(getModelLocation()).toAbsolutePath().toString(),
            in.fieldIndex(getInputCol()),
            bytes,
            nameIndex,
            getBatchSize(),
            (float) getScoreThreshold(),
            getMaxDetections());
    MapPartitionsFunction<Row, Row> detect = rows -> PartitionDetector.detect(settings, rows);
    return dataset.toDF().mapPartitions(detect, Encoders.row(out));
  }

  /** {@inheritDoc} */
  @Override
  public ObjectDetector copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  private void checkModel() {
    String location = getModelLocation();
    if (location == null) {
      throw new IllegalArgumentException("modelLocation is not set: the saved model's directory");
    }
    Path dir = Path.of(location);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "model directory " + dir.toAbsolutePath() + " does not exist");
    }
    try {
      SavedModel.checkFormat(dir);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          dir.toAbsolutePath() + " is not a saved jdetect model: " + e.getMessage(), e);
    }
  }

  private DataType inputType(StructType schema) {
    String column = getInputCol();
    if (!Arrays.asList(schema.fieldNames()).contains(column)) {
      throw new IllegalArgumentException(
          "input column '"
              + column
              + "' not found; columns: "
              + Arrays.toString(schema.fieldNames())
              + " (setInputCol names the image bytes or paths)");
    }
    DataType type = schema.apply(column).dataType();
    if (type != DataTypes.BinaryType && type != DataTypes.StringType) {
      throw new IllegalArgumentException(
          "input column '"
              + column
              + "' is "
              + type.simpleString()
              + "; it must hold image file bytes (binary, as the binaryFile source's 'content')"
              + " or image paths (string)");
    }
    return type;
  }
}
