package dev.jdetect.train.inference;

import ai.djl.util.JsonUtils;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a saved model directory holds besides its weights, stored as {@code model.json}:
 *
 * <pre>{@code
 * {
 *   "modelType": "tiny-ssd",            // a ModelZoo name
 *   "classes": ["banana"],              // class k (1-based) is classes[k - 1]
 *   "inputWidth": 256, "inputHeight": 256,   // images are resized to this; 0 = as given
 *   "weights": "weights.params",        // file next to model.json
 *   "scoreThreshold": 0.0,              // detections below are dropped by the Detector
 *   "options": {"backbone": "..."}      // model-specific settings for the factory
 * }
 * }</pre>
 */
public final class ModelDescription {

  /** The file name of the description inside a model directory. */
  public static final String FILE_NAME = "model.json";

  private final String modelType;
  private final List<String> classes;
  private final int inputWidth;
  private final int inputHeight;
  private final String weights;
  private final float scoreThreshold;
  private final Map<String, String> options;

  private ModelDescription(Builder b) {
    this.modelType = b.modelType;
    this.classes = List.copyOf(b.classes);
    this.inputWidth = b.inputWidth;
    this.inputHeight = b.inputHeight;
    this.weights = b.weights;
    this.scoreThreshold = b.scoreThreshold;
    this.options = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.options));
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
   * Returns the model-zoo name of the model, e.g. {@code "tiny-ssd"}.
   *
   * @return the type name
   */
  public String getModelType() {
    return modelType;
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
   * Returns the width images are resized to before the model sees them.
   *
   * @return pixels, or 0 to pass images at their own size
   */
  public int getInputWidth() {
    return inputWidth;
  }

  /**
   * Returns the height images are resized to before the model sees them.
   *
   * @return pixels, or 0 to pass images at their own size
   */
  public int getInputHeight() {
    return inputHeight;
  }

  /**
   * Returns whether images are resized to a fixed input size.
   *
   * @return {@code true} if both input sizes are positive
   */
  public boolean hasFixedInputSize() {
    return inputWidth > 0 && inputHeight > 0;
  }

  /**
   * Returns the weights file name, relative to the model directory.
   *
   * @return e.g. {@code "weights.params"}
   */
  public String getWeights() {
    return weights;
  }

  /**
   * Returns the score below which the {@link Detector} drops detections.
   *
   * @return the threshold, in {@code [0, 1]}
   */
  public float getScoreThreshold() {
    return scoreThreshold;
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
   * Returns an option.
   *
   * @param key the option name
   * @param defaultValue the value if absent
   * @return the value
   */
  public String getOption(String key, String defaultValue) {
    return options.getOrDefault(key, defaultValue);
  }

  /**
   * Returns a builder initialized with this description's values.
   *
   * @return a builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.modelType = modelType;
    b.classes = new ArrayList<>(classes);
    b.inputWidth = inputWidth;
    b.inputHeight = inputHeight;
    b.weights = weights;
    b.scoreThreshold = scoreThreshold;
    b.options.putAll(options);
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
    json.modelType = modelType;
    json.classes = classes;
    json.inputWidth = inputWidth;
    json.inputHeight = inputHeight;
    json.weights = weights;
    json.scoreThreshold = scoreThreshold;
    json.options = options;
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
      Builder b =
          builder()
              .setModelType(json.modelType)
              .setClasses(json.classes)
              .optInputSize(json.inputWidth, json.inputHeight)
              .optScoreThreshold(json.scoreThreshold);
      if (json.weights != null) {
        b.optWeights(json.weights);
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
    return modelType
        + " "
        + classes
        + (hasFixedInputSize() ? " " + inputWidth + "x" + inputHeight : " any size");
  }

  /** The JSON form. */
  private static final class Json {
    String modelType;
    List<String> classes;
    int inputWidth;
    int inputHeight;
    String weights;
    float scoreThreshold;
    Map<String, String> options;
  }

  /** Builds a {@link ModelDescription}. */
  public static final class Builder {
    private String modelType;
    private List<String> classes = new ArrayList<>();
    private int inputWidth;
    private int inputHeight;
    private String weights = "weights.params";
    private float scoreThreshold;
    private final Map<String, String> options = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets the model-zoo name (required).
     *
     * @param modelType e.g. {@code "tiny-ssd"}
     * @return this builder
     */
    public Builder setModelType(String modelType) {
      this.modelType = Objects.requireNonNull(modelType, "field 'modelType' is missing");
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
     * Sets the fixed input size.
     *
     * @param width pixels, or 0 together with height 0 for images as given
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
     * @param weights a file name relative to the model directory (default {@code weights.params})
     * @return this builder
     */
    public Builder optWeights(String weights) {
      if (weights.isEmpty() || weights.contains("..")) {
        throw new IllegalArgumentException("field 'weights' must be a plain file name: " + weights);
      }
      this.weights = weights;
      return this;
    }

    /**
     * Sets the score threshold of the {@link Detector}.
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
     * Builds the description.
     *
     * @return the description
     * @throws IllegalArgumentException if the type or the classes are missing
     */
    public ModelDescription build() {
      if (modelType == null || modelType.isEmpty()) {
        throw new IllegalArgumentException("field 'modelType' is missing");
      }
      if (classes.isEmpty()) {
        throw new IllegalArgumentException("field 'classes' must list at least one class");
      }
      for (String c : classes) {
        if (c == null || c.isEmpty()) {
          throw new IllegalArgumentException("field 'classes' holds an empty name");
        }
      }
      return new ModelDescription(this);
    }
  }
}
