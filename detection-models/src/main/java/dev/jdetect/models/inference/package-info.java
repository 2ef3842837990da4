/**
 * Inference the DJL way, and the saved-model format.
 *
 * <pre>{@code
 * Criteria<Image, DetectedObjects> criteria = Criteria.builder()
 *     .setTypes(Image.class, DetectedObjects.class)
 *     .optModelPath(Path.of("runs/tiny-ssd"))   // a directory SavedModel.save wrote
 *     .optEngine("PyTorch")
 *     .optArgument("threshold", 0.5)
 *     .build();
 * try (ZooModel<Image, DetectedObjects> model = criteria.loadModel();
 *     Predictor<Image, DetectedObjects> predictor = model.newPredictor()) {
 *   DetectedObjects found = predictor.predict(ImageFactory.getInstance().fromFile(photo));
 * }
 * }</pre>
 *
 * <p>{@link dev.jdetect.models.inference.SavedModel} writes and reads model directories ({@code
 * model.safetensors} with torchvision's tensor names, {@code model.json}, {@code synset.txt},
 * {@code serving.properties}); {@link dev.jdetect.models.inference.DetectionBlockFactory} and
 * {@link dev.jdetect.models.inference.DetectionTranslatorFactory} are what DJL calls to load one;
 * {@link dev.jdetect.models.inference.DetectionTranslator} converts images and detections; {@link
 * dev.jdetect.models.inference.ZooModels} wraps a model in memory; {@link
 * dev.jdetect.models.inference.ImageTensors} is the one conversion between decoded images and the
 * float32 RGB {@code (3, H, W)} tensors models take.
 */
package dev.jdetect.models.inference;
