package dev.jdetect.train.inference;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.BoundingBox;
import ai.djl.modality.cv.output.DetectedObjects;
import ai.djl.modality.cv.output.Rectangle;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.inference.ImageTensors;
import dev.jdetect.models.transform.BilinearResize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Runs a jdetect model on DJL {@link Image}s of any size and returns DJL {@link DetectedObjects}
 * with class names, scores and boxes.
 *
 * <pre>{@code
 * try (Detector detector = Detector.load(Path.of("runs/tiny-ssd"))) {
 *   Image image = ImageFactory.getInstance().fromImage(ImageFiles.read(path));
 *   DetectedObjects found = detector.detect(image);
 * }
 * }</pre>
 *
 * <p><b>Coordinates.</b> The boxes of the result are DJL {@link Rectangle}s in coordinates relative
 * to the given image: {@code x = x1 / width}, {@code y = y1 / height}, {@code width = (x2 - x1) /
 * width}, {@code height = (y2 - y1) / height}, clipped to {@code [0, 1]}, where {@code (x1, y1, x2,
 * y2)} are the model's pixel boxes and {@code width, height} the size of the array the model was
 * given (the image itself, or its resized copy when the description fixes an input size). Multiply
 * by the image's own size to get its pixels. (DJL's {@code SingleShotDetectionTranslator} is not
 * used: in DJL 0.35.1 it divides boxes by the input size twice.)
 *
 * <p><b>Pixels.</b> Images become tensors through {@link ImageTensors} (grey as stored,
 * transparency over white); a description that fixes the input size resizes them as torchvision
 * does ({@link BilinearResize}, no antialiasing). Decode files with {@code ImageFiles.read} to have
 * EXIF orientation and CMYK JPEGs shown as a viewer shows them.
 *
 * <p><b>Batches.</b> {@link #detect(List)} runs one forward pass over the whole list when the
 * description fixes the input size; otherwise images go through one at a time (their sizes may
 * differ).
 *
 * <p><b>Threads.</b> A detector may be shared: {@code detect} is {@code synchronized}, so calls
 * from several threads run one after another. For parallel inference load one detector per thread
 * (each holds its own copy of the weights). Predictions run with PyTorch's autograd recording off
 * on the calling thread ({@link Autograd#noGradient()}); PyTorch would otherwise record on threads
 * DJL never touched.
 *
 * <p><b>Why this package.</b> The design map places the detector in {@code
 * dev.jdetect.models.inference}; it lives in detection-train as {@code dev.jdetect.train.inference}
 * because its registry depends on every model package and it shares the saved-model format with the
 * training side, and so that the model packages stay free of file-format code.
 */
public final class Detector implements AutoCloseable {

  private static final int DEFAULT_INIT_SIZE = 320;

  private final DetectionModel model;
  private final ModelDescription description;
  private final NDManager manager;
  private final ParameterStore parameterStore;

  private Detector(DetectionModel model, ModelDescription description, NDManager manager) {
    ConvolutionCheck.ensureCorrect();
    this.model = model;
    this.description = description;
    this.manager = manager;
    this.parameterStore = new ParameterStore(manager, false);
  }

  /**
   * Loads a model directory with the built-in model types on the engine's default device.
   *
   * @param dir a directory holding {@code model.json} and the weights file
   * @return the detector
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if the description or the weights are invalid
   */
  public static Detector load(Path dir) throws IOException {
    return load(dir, ModelRegistry.withDefaults());
  }

  /**
   * Loads a model directory whose type is found in the given registry.
   *
   * @param dir the model directory
   * @param registry the model types
   * @return the detector
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if the description or the weights are invalid
   */
  public static Detector load(Path dir, ModelRegistry registry) throws IOException {
    return load(dir, registry, Engine.getInstance().defaultDevice());
  }

  /**
   * Loads a model directory onto a device.
   *
   * @param dir the model directory
   * @param registry the model types
   * @param device the device to run on
   * @return the detector
   * @throws IOException if a file cannot be read
   * @throws IllegalArgumentException if the description or the weights are invalid
   */
  public static Detector load(Path dir, ModelRegistry registry, Device device) throws IOException {
    ModelDescription description = ModelDescription.read(dir);
    Path weights = dir.resolve(description.getWeights());
    if (!Files.isRegularFile(weights)) {
      throw new IllegalArgumentException(
          "weights file "
              + weights
              + " named in "
              + dir.resolve(ModelDescription.FILE_NAME)
              + " does not exist");
    }
    DetectionModel model = registry.create(description);
    NDManager manager = NDManager.newBaseManager(device);
    try {
      int w = description.hasFixedInputSize() ? description.getInputWidth() : DEFAULT_INIT_SIZE;
      int h = description.hasFixedInputSize() ? description.getInputHeight() : DEFAULT_INIT_SIZE;
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, h, w));
      ParameterFiles.load(model, weights, manager);
    } catch (RuntimeException | IOException e) {
      manager.close();
      throw e;
    }
    return new Detector(model, description, manager);
  }

  /**
   * Wraps a model already in memory (for example right after training). The detector does not own
   * the model's parameters; closing it leaves the model usable.
   *
   * @param model an initialized model
   * @param description its description (classes, input size, threshold)
   * @return the detector
   * @throws IllegalArgumentException if the class counts differ
   */
  public static Detector of(DetectionModel model, ModelDescription description) {
    if (model.numClasses() != description.getClasses().size()) {
      throw new IllegalArgumentException(
          "model has "
              + model.numClasses()
              + " classes but the description lists "
              + description.getClasses().size());
    }
    Device device =
        model.getParameters().isEmpty()
            ? Engine.getInstance().defaultDevice()
            : model.getParameters().valueAt(0).getArray().getDevice();
    return new Detector(model, description, NDManager.newBaseManager(device));
  }

  /**
   * Saves a model as a model directory: {@code model.json} and the weights file it names.
   *
   * @param model the initialized model
   * @param description its description
   * @param dir the directory (created if needed)
   * @throws IOException if writing fails
   */
  public static void save(DetectionModel model, ModelDescription description, Path dir)
      throws IOException {
    if (model.numClasses() != description.getClasses().size()) {
      throw new IllegalArgumentException(
          "model has "
              + model.numClasses()
              + " classes but the description lists "
              + description.getClasses().size());
    }
    Files.createDirectories(dir);
    ParameterFiles.save(model, dir.resolve(description.getWeights()));
    description.write(dir);
  }

  /**
   * Returns the description.
   *
   * @return the description
   */
  public ModelDescription getDescription() {
    return description;
  }

  /**
   * Returns the model.
   *
   * @return the model
   */
  public DetectionModel getModel() {
    return model;
  }

  /**
   * Detects objects in one image.
   *
   * @param image an RGB image of any size
   * @return the detections, boxes relative to the image
   */
  public synchronized DetectedObjects detect(Image image) {
    return detect(List.of(image)).get(0);
  }

  /**
   * Detects objects in several images.
   *
   * @param images the images
   * @return one result per image, in order
   */
  public synchronized List<DetectedObjects> detect(List<Image> images) {
    Objects.requireNonNull(images, "images");
    List<DetectedObjects> out = new ArrayList<>(images.size());
    if (images.isEmpty()) {
      return out;
    }
    if (description.hasFixedInputSize()) {
      out.addAll(run(images));
    } else {
      for (Image image : images) {
        out.addAll(run(List.of(image)));
      }
    }
    return out;
  }

  private List<DetectedObjects> run(List<Image> images) {
    try (Autograd.NoGradient noGradient = Autograd.noGradient();
        NDManager scope = manager.newSubManager()) {
      NDList tensors = new NDList(images.size());
      for (Image image : images) {
        tensors.add(toTensor(scope, image));
      }
      NDArray batch = NDArrays.stack(tensors);
      float width = batch.getShape().get(3);
      float height = batch.getShape().get(2);
      NDList raw = model.forward(parameterStore, new NDList(batch), false);
      List<Detections> dets = Detections.fromNDList(raw);
      if (dets.size() != images.size()) {
        throw new IllegalStateException(
            "model returned detections for " + dets.size() + " images, expected " + images.size());
      }
      List<DetectedObjects> out = new ArrayList<>(dets.size());
      for (Detections d : dets) {
        out.add(toDetectedObjects(d, width, height));
      }
      raw.forEach(a -> a.attach(scope));
      return out;
    }
  }

  private NDArray toTensor(NDManager scope, Image image) {
    NDArray chw = ImageTensors.toChw(scope, image);
    if (!description.hasFixedInputSize()) {
      return chw;
    }
    return BilinearResize.resize(
        chw, description.getInputHeight(), description.getInputWidth(), false);
  }

  private DetectedObjects toDetectedObjects(Detections d, float width, float height) {
    float[] boxes = d.boxes().toType(DataType.FLOAT32, false).toFloatArray();
    float[] scores = d.scores().toType(DataType.FLOAT32, false).toFloatArray();
    long[] labels = d.labels().toLongArray();
    List<String> names = new ArrayList<>();
    List<Double> probs = new ArrayList<>();
    List<BoundingBox> rects = new ArrayList<>();
    List<String> classes = description.getClasses();
    for (int i = 0; i < scores.length; i++) {
      if (scores[i] < description.getScoreThreshold()) {
        continue;
      }
      int label = (int) labels[i];
      names.add(label >= 1 && label <= classes.size() ? classes.get(label - 1) : "class " + label);
      probs.add((double) scores[i]);
      double x1 = clamp(boxes[4 * i] / width);
      double y1 = clamp(boxes[4 * i + 1] / height);
      double x2 = clamp(boxes[4 * i + 2] / width);
      double y2 = clamp(boxes[4 * i + 3] / height);
      rects.add(new Rectangle(x1, y1, Math.max(0, x2 - x1), Math.max(0, y2 - y1)));
    }
    return new DetectedObjects(names, probs, rects);
  }

  private static double clamp(double v) {
    return Math.max(0.0, Math.min(1.0, v));
  }

  /** Releases the detector's arrays (and, when loaded from a directory, the model's weights). */
  @Override
  public void close() {
    manager.close();
  }
}
