package dev.jdetect.train.inference;

import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.util.Objects;
import java.util.Set;

/**
 * Builds the model a saved {@link ModelDescription} names, through a {@link ModelZoo}: the
 * description's {@code modelType} is the zoo name, and its classes, input size and options make the
 * {@link ModelConfig}. {@link #withDefaults()} knows every built-in jdetect model; register your
 * own types (custom backbones, other heads) with {@link #register}.
 *
 * <p>A registry is an ordinary object (no global state): build one, add types, pass it to {@link
 * Detector#load(java.nio.file.Path, ModelRegistry)}.
 */
public final class ModelRegistry {

  private final ModelZoo zoo;

  private ModelRegistry(ModelZoo zoo) {
    this.zoo = zoo;
  }

  /**
   * Returns an empty registry.
   *
   * @return a registry with no types
   */
  public static ModelRegistry empty() {
    return new ModelRegistry(ModelZoo.empty());
  }

  /**
   * Returns a registry with the built-in jdetect models ({@link ModelZoo#builtin()}).
   *
   * @return a new registry
   */
  public static ModelRegistry withDefaults() {
    return new ModelRegistry(ModelZoo.builtin());
  }

  /**
   * Returns a registry over a zoo; types registered later go into that zoo.
   *
   * @param zoo the zoo
   * @return the registry
   */
  public static ModelRegistry of(ModelZoo zoo) {
    return new ModelRegistry(Objects.requireNonNull(zoo, "zoo"));
  }

  /**
   * Adds or replaces a model type.
   *
   * @param modelType the type name as written in {@code model.json}
   * @param factory builds the model from the description's config
   * @return this registry
   */
  public ModelRegistry register(String modelType, ModelZoo.Factory factory) {
    zoo.register(modelType, factory);
    return this;
  }

  /**
   * Returns the known type names.
   *
   * @return a sorted, unmodifiable set
   */
  public Set<String> types() {
    return zoo.names();
  }

  /**
   * Builds the model a description names.
   *
   * @param description the description
   * @return the uninitialized model
   * @throws IllegalArgumentException if the type is unknown (the message lists the known ones) or
   *     the model's class count differs from the description's
   */
  public DetectionModel create(ModelDescription description) {
    // named after model.json's field, since that is where a user has to look
    if (!zoo.contains(description.getModelType())) {
      throw new IllegalArgumentException(
          "unknown modelType '" + description.getModelType() + "'; known types: " + zoo.names());
    }
    return zoo.create(config(description));
  }

  /** The zoo config a description stands for: its type, class count, input size and options. */
  private static ModelConfig config(ModelDescription description) {
    return new ModelConfig(
        description.getModelType(),
        description.getClasses().size(),
        description.getInputWidth(),
        description.getInputHeight(),
        description.getOptions());
  }
}
