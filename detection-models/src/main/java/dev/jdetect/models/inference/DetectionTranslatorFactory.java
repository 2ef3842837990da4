package dev.jdetect.models.inference;

import ai.djl.Model;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.nn.Block;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.Pair;
import dev.jdetect.models.DetectionModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Makes the {@link DetectionTranslator} of a jdetect model for DJL's {@code Criteria} ({@code
 * serving.properties} names it as {@code translatorFactory}).
 *
 * <p>Arguments ({@code Criteria.optArgument} or {@code serving.properties}, the former winning):
 *
 * <ul>
 *   <li>{@code threshold}: score threshold in {@code [0, 1]} (default: the description's {@code
 *       scoreThreshold});
 *   <li>{@code maxDetections}: detections kept per image (default: all the model returns);
 *   <li>{@code width}, {@code height}: resize images to this size first, as the training pipelines
 *       do (default: the input size {@code model.json} records; images as given when it records
 *       none, or with {@code width=0, height=0});
 *   <li>{@code synsetFileName}: the class-name file in the model directory (default {@code
 *       synset.txt}; {@code model.json}'s classes when there is none), or {@code synset}: the names
 *       separated by commas.
 * </ul>
 */
public final class DetectionTranslatorFactory implements TranslatorFactory {

  /** {@inheritDoc} */
  @Override
  public Set<Pair<Type, Type>> getSupportedTypes() {
    return Set.of(new Pair<>(Image.class, DetectedObjects.class));
  }

  /** {@inheritDoc} */
  @Override
  @SuppressWarnings("unchecked")
  public <I, O> Translator<I, O> newInstance(
      Class<I> input, Class<O> output, Model model, Map<String, ?> arguments) {
    if (!isSupported(input, output)) {
      throw new IllegalArgumentException(
          "jdetect models translate Image to DetectedObjects, not "
              + input.getSimpleName()
              + " to "
              + output.getSimpleName());
    }
    Block block = model.getBlock();
    if (!(block instanceof InferenceBlock)) {
      throw new IllegalArgumentException(
          "the block of "
              + model.getModelPath()
              + " is "
              + (block == null ? "missing" : block.getClass().getName())
              + "; a jdetect model directory builds its own block through "
              + DetectionBlockFactory.class.getName()
              + " (serving.properties' blockFactory), so leave Criteria.optBlock unset");
    }
    Path dir = model.getModelPath();
    try {
      ModelDescription description = ModelDescription.read(dir);
      return (Translator<I, O>)
          translator(((InferenceBlock) block).model(), description, dir, arguments);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Makes the translator of a model from its description and arguments.
   *
   * @param model the model
   * @param description its description
   * @param dir the model directory holding the class-name file, or {@code null}
   * @param arguments the arguments listed in the class comment
   * @return the translator
   * @throws IOException if the class-name file cannot be read
   * @throws IllegalArgumentException if an argument is malformed or the number of class names
   *     differs from the model's classes
   */
  public static DetectionTranslator translator(
      DetectionModel model, ModelDescription description, Path dir, Map<String, ?> arguments)
      throws IOException {
    List<String> classes = classes(description, dir, arguments);
    if (classes.size() != model.numClasses()) {
      throw new IllegalArgumentException(
          "the class names ("
              + classes.size()
              + ", from "
              + source(dir, arguments)
              + ") do not match the model's "
              + model.numClasses()
              + " classes");
    }
    DetectionTranslator.Builder b =
        DetectionTranslator.builder()
            .setClasses(classes)
            .optThreshold(
                value(arguments, "threshold", Float::parseFloat, description.getScoreThreshold()));
    Integer max = value(arguments, "maxDetections", Integer::parseInt, null);
    if (max != null) {
      b.optMaxDetections(max);
    }
    Integer width = value(arguments, "width", Integer::parseInt, null);
    Integer height = value(arguments, "height", Integer::parseInt, null);
    if (width != null || height != null) {
      if (width == null || height == null) {
        throw new IllegalArgumentException("arguments width and height go together");
      }
      b.optInputSize(width, height);
    } else if (description.hasInputSize()) {
      // the training pipelines resize every image to this size before the model sees it
      b.optInputSize(description.getInputWidth(), description.getInputHeight());
    }
    return b.build();
  }

  private static List<String> classes(
      ModelDescription description, Path dir, Map<String, ?> arguments) throws IOException {
    Object inline = arguments.get("synset");
    if (inline != null) {
      return Arrays.stream(inline.toString().split(",")).map(String::strip).toList();
    }
    Object name = arguments.get("synsetFileName");
    Path file =
        dir == null ? null : dir.resolve(name == null ? SavedModel.SYNSET : name.toString());
    if (file == null || !Files.isRegularFile(file)) {
      if (name != null) {
        throw new IllegalArgumentException("synsetFileName " + name + " not found in " + dir);
      }
      return description.getClasses();
    }
    List<String> names = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        names.add(line.strip());
      }
    }
    return names;
  }

  private static String source(Path dir, Map<String, ?> arguments) {
    if (arguments.get("synset") != null) {
      return "argument synset";
    }
    Object name = arguments.get("synsetFileName");
    return dir == null
        ? "model.json"
        : dir.resolve(name == null ? SavedModel.SYNSET : name.toString()).toString();
  }

  private static <T> T value(
      Map<String, ?> arguments, String key, Function<String, T> parse, T defaultValue) {
    Object v = arguments.get(key);
    if (v == null) {
      return defaultValue;
    }
    try {
      return parse.apply(v.toString().strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("argument " + key + " is not a number: " + v, e);
    }
  }
}
