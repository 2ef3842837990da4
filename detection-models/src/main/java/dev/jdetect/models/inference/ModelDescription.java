package dev.jdetect.models.inference;

import ai.djl.util.JsonUtils;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a saved model directory holds besides its weights, stored as {@code model.json}:
 *
 * <pre>{@code
 * {
 *   "format": "jdetect-model/2",
 *   "architecture": "tiny-ssd",          // a ModelZoo name
 *   "classes": ["banana"],               // class k (1-based) is classes[k - 1]
 *   "inputWidth": 256, "inputHeight": 256,   // images are resized to this first; 0 = as given
 *   "weights": "model.safetensors",      // file next to model.json, torchvision's tensor names
 *   "scoreThreshold": 0.0,               // the translator's default threshold
 *   "transform": "...",                  // how the model itself normalises and resizes images
 *   "options": {"loss": "d2l"},          // model-specific settings for the zoo
 *   "card": {...}                        // optional ModelCard
 * }
 * }</pre>
 *
 * <p>Directories written by earlier jdetect versions name the architecture {@code modelType} and
 * hold {@code weights.params}; they are read as well (see {@link SavedModel#upgrade}).
 */
public final class ModelDescription {

  /** The file name of the description inside a model directory. */
  public static final String FILE_NAME = "model.json";

  /** The format tag written into every description. */
  public static final String FORMAT = "jdetect-model/2";

  /** The weights file name of the current format. */
  public static final String WEIGHTS_FILE = "model.safetensors";

  private final String architecture;
  private final List<String> classes;
  private final int inputWidth;
  private final int inputHeight;
  private final String weights;
  private final float scoreThreshold;
  private final String transform;
  private final Map<String, String> options;
  private final ModelCard card;

  private ModelDescription(Builder b) {
    this.architecture = b.architecture;
    this.classes = List.copyOf(b.classes);
    this.inputWidth = b.inputWidth;
    this.inputHeight = b.inputHeight;
    this.weights = b.weights;
    this.scoreThreshold = b.scoreThreshold;
    this.transform = b.transform;
    this.options = Collections.unmodifiableMap(new LinkedHashMap<>(b.options));
    this.card = b.card;
  }

  /**
   * Returns a builder.
   *
   * @return a builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the model-zoo name of the architecture, e.g. {@code "tiny-ssd"}.
   *
   * @return the name
   */
  public String getArchitecture() {
    return architecture;
  }

  /**
   * Returns the class names; label {@code k} is {@code getClasses().get(k - 1)}.
   *
   * @return an unmodifiable list, not empty
   */
  public List<String> getClasses() {
    return classes;
  }

  /**
   * Returns the input width the model was built and trained for; the translator resizes images to
   * it unless told otherwise.
   *
   * @return pixels, or 0 for images as given
   */
  public int getInputWidth() {
    return inputWidth;
  }

  /**
   * Returns the input height the model was built and trained for.
   *
   * @return pixels, or 0 for images as given
   */
  public int getInputHeight() {
    return inputHeight;
  }

  /**
   * Returns whether an input size is recorded.
   *
   * @return {@code true} if both input sizes are positive
   */
  public boolean hasInputSize() {
    return inputWidth > 0 && inputHeight > 0;
  }

  /**
   * Returns the weights file name, relative to the model directory.
   *
   * @return the file name
   */
  public String getWeights() {
    return weights;
  }

  /**
   * Returns the score below which the translator drops detections unless its {@code threshold}
   * argument says otherwise.
   *
   * @return the threshold, in {@code [0, 1]}
   */
  public float getScoreThreshold() {
    return scoreThreshold;
  }

  /**
   * Returns how the model normalises and resizes images, as text for readers of the file.
   *
   * @return the description, or {@code null} if not recorded
   */
  public String getTransform() {
    return transform;
  }

  /**
   * Returns the model-specific options.
   *
   * @return an unmodifiable map
   */
  public Map<String, String> getOptions() {
    return options;
  }

  /**
   * Returns the model card.
   *
   * @return the card, or {@code null} if none was written
   */
  public ModelCard getCard() {
    return card;
  }

  /**
   * Returns a builder initialised with this description's values.
   *
   * @return a builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.architecture = architecture;
    b.classes = new ArrayList<>(classes);
    b.inputWidth = inputWidth;
    b.inputHeight = inputHeight;
    b.weights = weights;
    b.scoreThreshold = scoreThreshold;
    b.transform = transform;
    b.options.putAll(options);
    b.card = card;
    return b;
  }

  /**
   * Writes {@code model.json} into a directory.
   *
   * @param dir the model directory (created if needed)
   * @throws IOException if writing fails
   */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Json json = new Json();
    json.format = FORMAT;
    json.architecture = architecture;
    json.classes = classes;
    json.inputWidth = inputWidth;
    json.inputHeight = inputHeight;
    json.weights = weights;
    json.scoreThreshold = scoreThreshold;
    json.transform = transform;
    json.options = options;
    json.card = card;
    Files.writeString(
        dir.resolve(FILE_NAME), JsonUtils.GSON_PRETTY.toJson(json) + "\n", StandardCharsets.UTF_8);
  }

  /**
   * Reads {@code model.json} from a model directory.
   *
   * @param dir the model directory
   * @return the description
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if the file is malformed or misses a required field, naming
   *     the file and the field
   */
  public static ModelDescription read(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no " + FILE_NAME + " in model directory " + dir);
    }
    Json json;
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      json = JsonUtils.GSON.fromJson(reader, Json.class);
    } catch (JsonParseException e) {
      throw new IllegalArgumentException(file + ": malformed JSON: " + e.getMessage(), e);
    }
    if (json == null) {
      throw new IllegalArgumentException(file + ": empty file");
    }
    try {
      String name = json.architecture != null ? json.architecture : json.modelType;
      Builder b =
          builder()
              .setArchitecture(name)
              .setClasses(json.classes)
              .optInputSize(json.inputWidth, json.inputHeight)
              .optScoreThreshold(json.scoreThreshold)
              .optTransform(json.transform)
              .optCard(json.card);
      if (json.weights != null) {
        b.optWeights(json.weights);
      } else if (json.architecture == null) {
        b.optWeights(LegacyParameters.FILE_NAME); // the first format's default
      }
      if (json.options != null) {
        json.options.forEach(b::optOption);
      }
      return b.build();
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return architecture
        + " "
        + classes
        + (hasInputSize() ? " " + inputWidth + "x" + inputHeight : " default size");
  }

  /** The JSON form. */
  private static final class Json {
    String format;
    String architecture;
    String modelType;
    List<String> classes;
    int inputWidth;
    int inputHeight;
    String weights;
    float scoreThreshold;
    String transform;
    Map<String, String> options;
    ModelCard card;
  }

  /** Builds a {@link ModelDescription}. */
  public static final class Builder {
    private String architecture;
    private List<String> classes = new ArrayList<>();
    private int inputWidth;
    private int inputHeight;
    private String weights = WEIGHTS_FILE;
    private float scoreThreshold;
    private String transform;
    private final Map<String, String> options = new LinkedHashMap<>();
    private ModelCard card;

    private Builder() {}

    /**
     * Sets the model-zoo name of the architecture (required).
     *
     * @param architecture e.g. {@code "tiny-ssd"}
     * @return this builder
     */
    public Builder setArchitecture(String architecture) {
      this.architecture = Objects.requireNonNull(architecture, "field 'architecture' is missing");
      return this;
    }

    /**
     * Sets the class names (required, without background).
     *
     * @param classes names of labels 1..C
     * @return this builder
     */
    public Builder setClasses(List<String> classes) {
      Objects.requireNonNull(classes, "field 'classes' is missing");
      this.classes = new ArrayList<>(classes);
      return this;
    }

    /**
     * Sets the input size the model is built for.
     *
     * @param width pixels, or 0 together with height 0 for the model's default
     * @param height pixels
     * @return this builder
     */
    public Builder optInputSize(int width, int height) {
      if (width < 0 || height < 0 || (width == 0) != (height == 0)) {
        throw new IllegalArgumentException(
            "inputWidth/inputHeight must both be positive or both 0, got " + width + "x" + height);
      }
      this.inputWidth = width;
      this.inputHeight = height;
      return this;
    }

    /**
     * Sets the weights file name.
     *
     * @param weights a file name relative to the model directory (default {@value #WEIGHTS_FILE})
     * @return this builder
     */
    public Builder optWeights(String weights) {
      if (weights.isEmpty() || weights.contains("..") || weights.contains("/")) {
        throw new IllegalArgumentException("field 'weights' must be a plain file name: " + weights);
      }
      this.weights = weights;
      return this;
    }

    /**
     * Sets the default score threshold of the translator.
     *
     * @param threshold in {@code [0, 1]}, default 0
     * @return this builder
     */
    public Builder optScoreThreshold(float threshold) {
      if (!(threshold >= 0f && threshold <= 1f)) {
        throw new IllegalArgumentException(
            "field 'scoreThreshold' must be in [0, 1], got " + threshold);
      }
      this.scoreThreshold = threshold;
      return this;
    }

    /**
     * Sets the description of the model's own transform ({@link SavedModel#save} fills it in).
     *
     * @param transform text, or {@code null}
     * @return this builder
     */
    public Builder optTransform(String transform) {
      this.transform = transform;
      return this;
    }

    /**
     * Sets a model-specific option.
     *
     * @param key the name
     * @param value the value
     * @return this builder
     */
    public Builder optOption(String key, String value) {
      options.put(Objects.requireNonNull(key), Objects.requireNonNull(value));
      return this;
    }

    /**
     * Sets the model card.
     *
     * @param card the card, or {@code null} for none
     * @return this builder
     */
    public Builder optCard(ModelCard card) {
      this.card = card;
      return this;
    }

    /**
     * Builds the description.
     *
     * @return the description
     * @throws IllegalArgumentException if the architecture or the classes are missing
     */
    public ModelDescription build() {
      if (architecture == null || architecture.isEmpty()) {
        throw new IllegalArgumentException("field 'architecture' is missing");
      }
      if (classes.isEmpty()) {
        throw new IllegalArgumentException("field 'classes' must list at least one class");
      }
      for (String c : classes) {
        if (c == null || c.isEmpty() || c.contains("\n")) {
          throw new IllegalArgumentException("field 'classes' holds an empty or multi-line name");
        }
      }
      return new ModelDescription(this);
    }
  }
}
