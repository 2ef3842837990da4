package dev.jdetect.train.spark;

import ai.djl.MalformedModelException;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import dev.jdetect.models.inference.DetectionTranslatorFactory;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The saved models of this JVM: one DJL {@link ZooModel} per model directory, loaded through {@code
 * Criteria} on first use and shared by every task the JVM runs (each predicts through its own
 * predictor over the one copy of the weights). A model stays loaded for the life of the JVM, as an
 * executor serves job after job.
 */
final class ExecutorModels {

  private static final Map<String, LoadedModel> LOADED = new ConcurrentHashMap<>();

  /**
   * A loaded model and the class id of each class name.
   *
   * @param model the model
   * @param classIds class name to class id (1..C); the first id when names repeat
   */
  record LoadedModel(ZooModel<Image, DetectedObjects> model, Map<String, Integer> classIds) {

    /** The class id of a detection's class name (the translator names unknown labels "class k"). */
    int classId(String name) {
      Integer id = classIds.get(name);
      if (id != null) {
        return id;
      }
      if (name.startsWith("class ")) {
        try {
          return Integer.parseInt(name.substring("class ".length()));
        } catch (NumberFormatException e) {
          // not a label the translator made up; fall through
        }
      }
      return -1;
    }
  }

  private ExecutorModels() {}

  /**
   * Returns this JVM's model for a directory, loading it on the first call.
   *
   * @param dir the saved-model directory, as every caller spells it
   * @return the model
   * @throws UncheckedIOException if a file cannot be read
   * @throws IllegalStateException if DJL cannot load the model
   */
  static LoadedModel get(String dir) {
    return LOADED.computeIfAbsent(dir, ExecutorModels::load);
  }

  private static LoadedModel load(String dir) {
    try {
      ModelDescription description = SavedModel.checkFormat(Path.of(dir));
      ZooModel<Image, DetectedObjects> model =
          Criteria.builder()
              .setTypes(Image.class, DetectedObjects.class)
              .optModelPath(Path.of(dir))
              .optEngine("PyTorch")
              .optTranslatorFactory(new DetectionTranslatorFactory())
              .build()
              .loadModel();
      List<String> classes = description.getClasses();
      Map<String, Integer> ids = new HashMap<>();
      for (int k = 0; k < classes.size(); k++) {
        ids.putIfAbsent(classes.get(k), k + 1);
      }
      return new LoadedModel(model, Map.copyOf(ids));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load the model " + dir, e);
    } catch (ModelNotFoundException | MalformedModelException e) {
      throw new IllegalStateException("cannot load the model " + dir + ": " + e, e);
    }
  }
}
