package dev.jdetect.models.zoo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link ModelZoo} needs to build a model: its registered name, the number of object classes,
 * the input size it is trained and run at, and model-specific options.
 *
 * <p>A saved model directory's description maps onto a config one to one, so a model saved after
 * training is rebuilt from its name and settings alone.
 *
 * @param name the registered name, e.g. {@code "ssd-small"}
 * @param numClasses object classes, background excluded, at least 1
 * @param inputWidth the input width in pixels, or 0 for the model's own default
 * @param inputHeight the input height in pixels, or 0 for the model's own default
 * @param options model-specific settings (e.g. {@code scoreThreshold} of {@code tiny-ssd})
 */
public record ModelConfig(
    String name, int numClasses, int inputWidth, int inputHeight, Map<String, String> options) {

  /**
   * Validates and copies the settings.
   *
   * @throws IllegalArgumentException if the name is empty, there are no classes, or only one of the
   *     input sizes is set
   */
  public ModelConfig {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("model name must not be empty");
    }
    if (numClasses < 1) {
      throw new IllegalArgumentException(
          "model '" + name + "' needs at least one class, got " + numClasses);
    }
    if (inputWidth < 0 || inputHeight < 0 || (inputWidth == 0) != (inputHeight == 0)) {
      throw new IllegalArgumentException(
          "input width and height of model '"
              + name
              + "' must both be positive or both 0, got "
              + inputWidth
              + "x"
              + inputHeight);
    }
    options = Map.copyOf(Objects.requireNonNull(options, "options"));
  }

  /**
   * Returns a config with the model's default input size and no options.
   *
   * @param name the registered name
   * @param numClasses object classes, background excluded
   * @return the config
   */
  public static ModelConfig of(String name, int numClasses) {
    return new ModelConfig(name, numClasses, 0, 0, Map.of());
  }

  /**
   * Returns this config with another input size.
   *
   * @param width pixels, or 0 together with height 0 for the model's default
   * @param height pixels
   * @return a new config
   */
  public ModelConfig withInputSize(int width, int height) {
    return new ModelConfig(name, numClasses, width, height, options);
  }

  /**
   * Returns this config with one more option (or a replaced one).
   *
   * @param key the option name
   * @param value its value
   * @return a new config
   */
  public ModelConfig withOption(String key, String value) {
    Map<String, String> more = new LinkedHashMap<>(options);
    more.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new ModelConfig(name, numClasses, inputWidth, inputHeight, more);
  }

  /**
   * Returns whether an input size is set.
   *
   * @return {@code true} if both sizes are positive
   */
  public boolean hasInputSize() {
    return inputWidth > 0;
  }

  /**
   * Returns an option.
   *
   * @param key the option name
   * @return the value, or {@code null} if absent
   */
  public String option(String key) {
    return options.get(key);
  }
}
