package dev.jdetect.models.inference;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.dense.DenseDetector;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.RcnnTransform;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.weights.SafetensorsWriter;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The one on-disk form of a jdetect model: a directory that DJL's {@code Criteria} loads.
 *
 * <ul>
 *   <li>{@code model.safetensors}: every parameter (batch-norm statistics included) under
 *       torchvision's tensor name, readable by {@code safetensors.torch.load_file}, DJL's {@code
 *       NDList.decode} and {@link dev.jdetect.models.weights.StateDict};
 *   <li>{@code model.json}: the {@link ModelDescription} (architecture, classes, input size,
 *       transform, model card);
 *   <li>{@code synset.txt}: the class names, one a line (DJL's convention);
 *   <li>{@code serving.properties}: tells DJL to build the block with {@link DetectionBlockFactory}
 *       and the translator with {@link DetectionTranslatorFactory};
 *   <li>{@code MODEL_CARD.md} when the description has a {@link ModelCard}.
 * </ul>
 *
 * <pre>{@code
 * SavedModel.save(model, description, Path.of("runs/ssd"));
 * Criteria<Image, DetectedObjects> criteria = Criteria.builder()
 *     .setTypes(Image.class, DetectedObjects.class)
 *     .optModelPath(Path.of("runs/ssd"))
 *     .optEngine("PyTorch")
 *     .build();
 * }</pre>
 */
public final class SavedModel {

  /** DJL's per-model settings file. */
  public static final String SERVING_PROPERTIES = "serving.properties";

  /** DJL's class-name file. */
  public static final String SYNSET = "synset.txt";

  /** The side models without a recorded input size are initialised at before their weights load. */
  private static final int INIT_SIZE = 320;

  private SavedModel() {}

  /**
   * Saves a model as a model directory. Existing files of the same names are replaced.
   *
   * @param model the initialised model
   * @param description its description; the weights file name and the transform are filled in
   * @param dir the directory (created if needed)
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if the class counts differ or a parameter is not initialised
   */
  public static void save(DetectionModel model, ModelDescription description, Path dir)
      throws IOException {
    checkClasses(model, description);
    ModelDescription d =
        description.toBuilder()
            .optWeights(ModelDescription.WEIGHTS_FILE)
            .optTransform(transformOf(model))
            .build();
    Files.createDirectories(dir);
    SafetensorsWriter.write(
        model,
        dir.resolve(d.getWeights()),
        Map.of("format", "pt", "jdetect.architecture", d.getArchitecture()));
    Files.writeString(
        dir.resolve(SYNSET), String.join("\n", d.getClasses()) + "\n", StandardCharsets.UTF_8);
    Files.writeString(dir.resolve(SERVING_PROPERTIES), servingProperties(), StandardCharsets.UTF_8);
    if (d.getCard() != null) {
      Files.writeString(
          dir.resolve(ModelCard.FILE_NAME), d.getCard().toMarkdown(d), StandardCharsets.UTF_8);
    }
    d.write(dir);
  }

  /**
   * Builds and loads the model a directory holds, with the built-in architectures.
   *
   * @param dir the model directory
   * @param manager the manager that owns the weights
   * @return the initialised model with the saved weights
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if the description or the weights are invalid, or the
   *     directory is in the old format (the message says how to convert it)
   */
  public static DetectionModel load(Path dir, NDManager manager) throws IOException {
    return load(dir, ModelZoo.builtin(), manager);
  }

  /**
   * Builds and loads the model a directory holds, with the architectures of a zoo.
   *
   * @param dir the model directory
   * @param zoo the architectures by name
   * @param manager the manager that owns the weights
   * @return the initialised model with the saved weights
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if the description or the weights are invalid, or the
   *     directory is in the old format (the message says how to convert it)
   */
  public static DetectionModel load(Path dir, ModelZoo zoo, NDManager manager) throws IOException {
    ModelDescription description = checkFormat(dir);
    Path weights = weightsFile(dir, description);
    DetectionModel model = create(zoo, description, manager);
    WeightImport.load(model, weights);
    return model;
  }

  /**
   * Reads a directory's description and checks that the directory is in the current format, so that
   * DJL's {@code Criteria} can load it.
   *
   * @param dir the model directory
   * @return the description
   * @throws IOException if {@code model.json} cannot be read
   * @throws IllegalArgumentException if the description is invalid, or the directory is in the old
   *     format (the message says how to convert it)
   */
  public static ModelDescription checkFormat(Path dir) throws IOException {
    ModelDescription description = ModelDescription.read(dir);
    if (isLegacy(description)) {
      throw new IllegalArgumentException(
          dir
              + " holds a model in jdetect's first format ("
              + LegacyParameters.FILE_NAME
              + "); convert it once with SavedModel.upgrade(Path.of(\""
              + dir
              + "\")), which writes "
              + ModelDescription.WEIGHTS_FILE
              + ", "
              + SYNSET
              + " and "
              + SERVING_PROPERTIES
              + " beside the old files");
    }
    return description;
  }

  /**
   * Converts a directory of jdetect's first format ({@code weights.params} with DJL parameter
   * names) into the current one in place: writes {@code model.safetensors}, {@code synset.txt},
   * {@code serving.properties} and a new {@code model.json}; the old weights file is left as it is.
   *
   * @param dir the model directory
   * @throws IOException if a file cannot be read or written
   * @throws IllegalArgumentException if the directory is not in the first format or its files are
   *     invalid
   */
  public static void upgrade(Path dir) throws IOException {
    ModelDescription description = ModelDescription.read(dir);
    if (!isLegacy(description)) {
      throw new IllegalArgumentException(dir + " is already in the current format");
    }
    Path weights = weightsFile(dir, description);
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel model = create(ModelZoo.builtin(), description, manager);
      LegacyParameters.load(model, weights, manager);
      save(model, description, dir);
    }
  }

  /**
   * Returns the text {@code model.json} records as the model's own transform.
   *
   * @param model the model
   * @return a description of how it normalises and resizes images
   */
  static String transformOf(DetectionModel model) {
    if (model instanceof Ssd) {
      return ((Ssd) model).transform().toString();
    }
    if (model instanceof FasterRcnn) {
      return describe(((FasterRcnn) model).getTransform());
    }
    if (model instanceof DenseDetector) {
      return describe(((DenseDetector) model).getTransform());
    }
    return model.getClass().getSimpleName();
  }

  private static String describe(RcnnTransform t) {
    return "RcnnTransform(minSize="
        + t.getMinSize()
        + ", maxSize="
        + t.getMaxSize()
        + ", "
        + t.getNormalization()
        + ", sizeDivisible="
        + t.getSizeDivisible()
        + ")";
  }

  static void checkClasses(DetectionModel model, ModelDescription description) {
    if (model.numClasses() != description.getClasses().size()) {
      throw new IllegalArgumentException(
          "model has "
              + model.numClasses()
              + " classes but the description lists "
              + description.getClasses().size());
    }
  }

  private static boolean isLegacy(ModelDescription description) {
    return LegacyParameters.FILE_NAME.equals(description.getWeights());
  }

  private static Path weightsFile(Path dir, ModelDescription description) {
    Path weights = dir.resolve(description.getWeights());
    if (!Files.isRegularFile(weights)) {
      throw new IllegalArgumentException(
          "weights file "
              + weights
              + " named in "
              + dir.resolve(ModelDescription.FILE_NAME)
              + " does not exist");
    }
    return weights;
  }

  private static DetectionModel create(
      ModelZoo zoo, ModelDescription description, NDManager manager) {
    if (!zoo.contains(description.getArchitecture())) {
      throw new IllegalArgumentException(
          "unknown architecture '"
              + description.getArchitecture()
              + "'; known names: "
              + zoo.names());
    }
    ConvolutionCheck.ensureCorrect();
    DetectionModel model =
        zoo.create(
            new ModelConfig(
                description.getArchitecture(),
                description.getClasses().size(),
                description.getInputWidth(),
                description.getInputHeight(),
                description.getOptions()));
    int w = description.hasInputSize() ? description.getInputWidth() : INIT_SIZE;
    int h = description.hasInputSize() ? description.getInputHeight() : INIT_SIZE;
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, h, w));
    return model;
  }

  private static String servingProperties() {
    return "# Read by DJL's Criteria: builds the block and the translator of this jdetect model.\n"
        + "engine=PyTorch\n"
        + "blockFactory="
        + DetectionBlockFactory.class.getName()
        + "\n"
        + "translatorFactory="
        + DetectionTranslatorFactory.class.getName()
        + "\n"
        + "# the block factory loads "
        + ModelDescription.WEIGHTS_FILE
        + " itself\n"
        + "option.hasParameter=false\n"
        + "# translator arguments (Criteria.optArgument overrides them):\n"
        + "# threshold=0.5\n"
        + "# maxDetections=100\n"
        + "# width=256\n"
        + "# height=256\n";
  }
}
