package dev.jdetect.examples;

import ai.djl.inference.Predictor;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.inference.ZooModels;
import dev.jdetect.train.data.ImageAnnotation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What the training mains do at the end: save the model and draw its predictions on images. */
final class SavedPredictions {

  private SavedPredictions() {}

  /**
   * Saves a trained model and draws its detections on the first images of a set.
   *
   * @param model the trained model
   * @param description its description and model card
   * @param modelDir where the model directory goes
   * @param images the images to draw on
   * @param count how many of them
   * @param predictions the folder of the drawn PNGs
   * @throws IOException if a file cannot be read or written
   */
  static void save(
      DetectionModel model,
      ModelDescription description,
      Path modelDir,
      List<ImageAnnotation> images,
      int count,
      Path predictions)
      throws IOException {
    SavedModel.save(model, description, modelDir);
    try (ZooModel<Image, DetectedObjects> zoo = ZooModels.of(model, description, Map.of());
        Predictor<Image, DetectedObjects> predictor = zoo.newPredictor()) {
      for (ImageAnnotation a : images.subList(0, Math.min(count, images.size()))) {
        Image image = ImageFactory.getInstance().fromFile(a.getFile());
        DetectedObjects found = predictor.predict(image);
        DetectionDrawer.savePng(
            DetectionDrawer.draw(image, found),
            predictions.resolve(a.getId().replaceFirst("\\.png$", "") + ".png"));
      }
    } catch (TranslateException e) {
      throw new IllegalStateException("prediction failed: " + e.getMessage(), e);
    }
  }
}
