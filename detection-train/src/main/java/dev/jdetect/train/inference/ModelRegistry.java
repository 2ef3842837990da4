package dev.jdetect.train.inference;

import dev.jdetect.models.DetectionModel;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Maps the {@code modelType} of a {@link ModelDescription} to a factory that builds the (not yet
 * initialized) model. {@link #withDefaults()} knows the jdetect models; register your own types
 * (custom backbones, other heads) with {@link #register}.
 *
 * <p>A registry is an ordinary object (no global state): build one, add types, pass it to {@link
 * Detector#load(java.nio.file.Path, ModelRegistry)}.
 */
public final class ModelRegistry {

  /** Builds a model from its description. */
  @FunctionalInterface
  public interface Factory {
    /**
     * Builds an uninitialized model.
     *
     * @param description the description (classes, input size, options)
     * @return the model, with {@code description.getClasses().size()} classes
     */
    DetectionModel create(ModelDescription description);
  }

  private final Map<String, Factory> factories = new TreeMap<>();

  private ModelRegistry() {}

  /**
   * Returns an empty registry.
   *
   * @return a registry with no types
   */
  public static ModelRegistry empty() {
    return new ModelRegistry();
  }

  /**
   * Returns a registry with the built-in jdetect model types (see {@link BuiltinModels}).
   *
   * @return a new registry
   */
  public static ModelRegistry withDefaults() {
    ModelRegistry r = new ModelRegistry();
    BuiltinModels.registerAll(r);
    return r;
  }

  /**
   * Adds or replaces a model type.
   *
   * @param modelType the type name as written in {@code model.json}
   * @param factory the factory
   * @return this registry
   */
  public ModelRegistry register(String modelType, Factory factory) {
    if (modelType == null || modelType.isEmpty()) {
      throw new IllegalArgumentException("modelType must not be empty");
    }
    factories.put(modelType, Objects.requireNonNull(factory, "factory"));
    return this;
  }

  /**
   * Returns the known type names.
   *
   * @return a sorted, unmodifiable set
   */
  public Set<String> types() {
    return Collections.unmodifiableSet(factories.keySet());
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
    Factory f = factories.get(description.getModelType());
    if (f == null) {
      throw new IllegalArgumentException(
          "unknown modelType '"
              + description.getModelType()
              + "'; known types: "
              + factories.keySet());
    }
    DetectionModel model = f.create(description);
    if (model.numClasses() != description.getClasses().size()) {
      throw new IllegalArgumentException(
          "model type '"
              + description.getModelType()
              + "' built "
              + model.numClasses()
              + " classes but the description lists "
              + description.getClasses().size());
    }
    return model;
  }
}
