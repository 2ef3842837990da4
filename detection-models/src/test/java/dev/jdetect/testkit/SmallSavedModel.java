package dev.jdetect.testkit;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A saved {@code ssd-small} with random weights and a 64x64 input, the model the inference, Spark
 * and example tests load: small enough to predict in milliseconds, and a real saved-model directory
 * ({@code model.safetensors}, {@code model.json}, {@code synset.txt}).
 */
public final class SmallSavedModel {

  /** The input side in pixels. */
  public static final int SIDE = 64;

  private SmallSavedModel() {}

  /**
   * Saves the model.
   *
   * @param dir the model directory to write
   * @param classes the class names (their count sizes the head)
   * @param description more of the description (thresholds, model card), or {@code b -> b}
   * @return {@code dir}
   * @throws IOException if writing fails
   */
  public static Path save(
      Path dir, List<String> classes, UnaryOperator<ModelDescription.Builder> description)
      throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      DetectionModel net =
          ModelZoo.builtin()
              .create(ModelConfig.of("ssd-small", classes.size()).withInputSize(SIDE, SIDE));
      net.initialize(manager, DataType.FLOAT32, new Shape(1, 3, SIDE, SIDE));
      ModelDescription.Builder b =
          ModelDescription.builder()
              .setArchitecture("ssd-small")
              .setClasses(classes)
              .optInputSize(SIDE, SIDE);
      SavedModel.save(net, description.apply(b).build(), dir);
    }
    return dir;
  }
}
