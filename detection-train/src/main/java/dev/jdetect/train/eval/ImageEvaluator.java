package dev.jdetect.train.eval;

/**
 * The images an evaluator scores: ground truth and detections per image id. {@link CocoEvaluator}
 * and {@link VocEvaluator} extend it. Not thread-safe.
 */
public abstract class ImageEvaluator {

  /** The added images. */
  final EvalImages images;

  ImageEvaluator(int numClasses) {
    this.images = new EvalImages(numClasses);
  }

  /**
   * Adds one image under the next free image id (one past the largest id added so far).
   *
   * @param groundTruth the image's ground truth
   * @param predictions the image's detections
   */
  public void add(GroundTruth groundTruth, Predictions predictions) {
    add(images.nextId(), groundTruth, predictions);
  }

  /**
   * Adds one image's ground truth and detections.
   *
   * @param imageId the image id (as COCO's {@code image_id}); ids must be unique
   * @param groundTruth the image's ground truth
   * @param predictions the image's detections
   * @throws IllegalArgumentException if the id was added before or a label is out of range
   */
  public void add(long imageId, GroundTruth groundTruth, Predictions predictions) {
    addGroundTruth(imageId, groundTruth);
    addPredictions(imageId, predictions);
  }

  /**
   * Adds the ground truth of one image (an image without objects still needs its empty ground
   * truth: its detections are then all false positives).
   *
   * @param imageId the image id; ids must be unique
   * @param groundTruth the image's ground truth
   * @throws IllegalArgumentException if the id already has ground truth or a label is out of range
   */
  public void addGroundTruth(long imageId, GroundTruth groundTruth) {
    images.addGroundTruth(imageId, groundTruth);
  }

  /**
   * Adds the detections of one image. Images with ground truth but no detections have none. The
   * evaluation refuses detections for an image id without ground truth, naming the id, as
   * pycocotools and the VOC devkit do.
   *
   * @param imageId the image id
   * @param predictions the image's detections
   * @throws IllegalArgumentException if the id already has detections or a label is out of range
   */
  public void addPredictions(long imageId, Predictions predictions) {
    images.addPredictions(imageId, predictions);
  }

  /**
   * Returns an empty partial result for {@link #match}: evaluations that run image by image on
   * several machines fill one per machine, {@link MatchedDetections#merge merge} them and evaluate
   * the merged result once ({@code VocEvaluator.evaluate(MatchedDetections)}, {@code
   * CocoEvaluator.evaluate(MatchedDetections)}), equal to adding all images to one evaluator.
   *
   * @return the empty matches
   */
  public abstract MatchedDetections newMatches();

  /**
   * Matches one image's detections to its ground truth and adds the outcome to {@code into},
   * without adding the image to this evaluator.
   *
   * @param imageKey the image's rank among images: detections with equal scores in different images
   *     are ranked by ascending key
   * @param groundTruth the image's ground truth
   * @param predictions the image's detections
   * @param into the partial result to add to, from {@link #newMatches}
   * @throws IllegalArgumentException if a label is out of range
   */
  public abstract void match(
      long imageKey, GroundTruth groundTruth, Predictions predictions, MatchedDetections into);

  /** Forgets all added images. */
  public void reset() {
    images.clear();
  }

  /**
   * Returns the number of images with ground truth.
   *
   * @return the count
   */
  public int size() {
    return images.size();
  }
}
