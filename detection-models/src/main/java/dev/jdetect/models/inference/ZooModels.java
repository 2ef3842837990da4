package dev.jdetect.models.inference;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.repository.zoo.ZooModel;
import dev.jdetect.models.DetectionModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Wraps a model already in memory (for example right after training) as a DJL {@link ZooModel}, the
 * same object {@code Criteria.loadModel()} returns for a saved directory.
 *
 * <pre>{@code
 * try (ZooModel<Image, DetectedObjects> zoo = ZooModels.of(model, description, Map.of());
 *     Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
 *   DetectedObjects found = predictor.predict(image);
 * }
 * }</pre>
 */
public final class ZooModels {

  private ZooModels() {}

  /**
   * Wraps an initialised model. The wrapper does not own the model's weights: closing it leaves the
   * model usable.
   *
   * @param model the initialised model
   * @param description its description (classes, threshold, input size)
   * @param arguments translator arguments, as {@link DetectionTranslatorFactory} lists them
   * @return the zoo model; its predictors share the model's weights
   * @throws IllegalArgumentException if the class counts differ or an argument is malformed
   */
  public static ZooModel<Image, DetectedObjects> of(
      DetectionModel model, ModelDescription description, Map<String, ?> arguments) {
    SavedModel.checkClasses(model, description);
    DetectionTranslator translator;
    try {
      translator = DetectionTranslatorFactory.translator(model, description, null, arguments);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // without a directory no file is read
    }
    Device device =
        model.getParameters().isEmpty()
            ? null
            : model.getParameters().valueAt(0).getArray().getDevice();
    Model wrapper = Model.newInstance(description.getArchitecture(), device, "PyTorch");
    wrapper.setBlock(new InferenceBlock(model));
    return new ZooModel<>(wrapper, translator);
  }
}
