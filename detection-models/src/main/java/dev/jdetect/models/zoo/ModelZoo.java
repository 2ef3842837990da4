package dev.jdetect.models.zoo;

import dev.jdetect.models.DetectionModel;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds models by name: the one place where jdetect's model names live. {@link #builtin()} knows
 * every configuration jdetect ships (see {@link BuiltinModels} for the list); register your own
 * (custom backbones, other heads) with {@link #register}.
 *
 * <p>A zoo is an ordinary object (no global state): build one, add names, ask it for models.
 *
 * <pre>{@code
 * DetectionModel model =
 *     ModelZoo.builtin().create(ModelConfig.of("ssd-small", 3).withInputSize(256, 256));
 * }</pre>
 */
public final class ModelZoo {

  /** Builds a model from its config. */
  @FunctionalInterface
  public interface Factory {
    /**
     * Builds an uninitialised model.
     *
     * @param config the name, classes, input size and options
     * @return the model, with {@code config.numClasses()} object classes
     */
    DetectionModel create(ModelConfig config);
  }

  private final Map<String, Factory> factories = new TreeMap<>();

  private ModelZoo() {}

  /**
   * Returns an empty zoo.
   *
   * @return a zoo with no names
   */
  public static ModelZoo empty() {
    return new ModelZoo();
  }

  /**
   * Returns a new zoo with jdetect's built-in configurations.
   *
   * @return a zoo that may be extended with {@link #register}
   */
  public static ModelZoo builtin() {
    ModelZoo zoo = new ModelZoo();
    BuiltinModels.registerAll(zoo);
    return zoo;
  }

  /**
   * Adds or replaces a name.
   *
   * @param name the name, as saved with a trained model
   * @param factory builds the model
   * @return this zoo
   */
  public ModelZoo register(String name, Factory factory) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("model name must not be empty");
    }
    factories.put(name, Objects.requireNonNull(factory, "factory"));
    return this;
  }

  /**
   * Returns the known names.
   *
   * @return a sorted, unmodifiable view
   */
  public Set<String> names() {
    return Collections.unmodifiableSet(factories.keySet());
  }

  /**
   * Returns whether a name is known.
   *
   * @param name the name
   * @return {@code true} if {@link #create} can build it
   */
  public boolean contains(String name) {
    return factories.containsKey(name);
  }

  /**
   * Builds the model a config names.
   *
   * @param config the config
   * @return the uninitialised model
   * @throws IllegalArgumentException if the name is unknown (the message lists the known ones), an
   *     option is malformed, or the model built has another class count than the config asks for
   */
  public DetectionModel create(ModelConfig config) {
    Factory factory = factories.get(config.name());
    if (factory == null) {
      throw new IllegalArgumentException(
          "unknown model name '" + config.name() + "'; known names: " + factories.keySet());
    }
    DetectionModel model = factory.create(config);
    if (model.numClasses() != config.numClasses()) {
      throw new IllegalArgumentException(
          "model '"
              + config.name()
              + "' was built with "
              + model.numClasses()
              + " classes, but "
              + config.numClasses()
              + " were asked for");
    }
    return model;
  }
}
