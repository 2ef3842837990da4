package dev.jdetect.train.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The images added to an evaluator, keyed by image id: ground truth and detections, every label
 * checked against {@code 1..C}. Detections may be added for an id before its ground truth; {@link
 * #imageIds} refuses detections whose image has no ground truth, as pycocotools' {@code loadRes}
 * and the devkit's {@code voc_eval} do. Package-private.
 */
final class EvalImages {

  private static final Predictions NONE = Predictions.builder().build();

  private final int numClasses;
  private final Map<Long, GroundTruth> gts = new LinkedHashMap<>();
  private final Map<Long, Predictions> preds = new LinkedHashMap<>();
  private long nextId;

  EvalImages(int numClasses) {
    this.numClasses = numClasses;
  }

  /** The id {@code add} without an id gives the next image: one past the largest id so far. */
  long nextId() {
    return nextId;
  }

  void addGroundTruth(long imageId, GroundTruth groundTruth) {
    Objects.requireNonNull(groundTruth, "groundTruth");
    if (gts.containsKey(imageId)) {
      throw new IllegalArgumentException("ground truth for image id " + imageId + " added twice");
    }
    for (int i = 0; i < groundTruth.size(); i++) {
      checkLabel(groundTruth.label(i), "groundTruth", imageId);
    }
    gts.put(imageId, groundTruth);
    nextId = Math.max(nextId, imageId + 1);
  }

  void addPredictions(long imageId, Predictions predictions) {
    Objects.requireNonNull(predictions, "predictions");
    if (preds.containsKey(imageId)) {
      throw new IllegalArgumentException("detections for image id " + imageId + " added twice");
    }
    for (int i = 0; i < predictions.size(); i++) {
      checkLabel(predictions.label(i), "predictions", imageId);
    }
    preds.put(imageId, predictions);
  }

  private void checkLabel(int label, String name, long imageId) {
    checkLabel(numClasses, label, name, imageId);
  }

  private static void checkLabel(int numClasses, int label, String name, long imageId) {
    if (label < 1 || label > numClasses) {
      throw new IllegalArgumentException(
          name
              + " of image id "
              + imageId
              + ": label must be in 1.."
              + numClasses
              + ", got "
              + label);
    }
  }

  /** Checks every label of one image's ground truth and detections against {@code 1..C}. */
  static void checkLabels(int numClasses, long imageId, GroundTruth g, Predictions p) {
    for (int i = 0; i < g.size(); i++) {
      checkLabel(numClasses, g.label(i), "groundTruth", imageId);
    }
    for (int i = 0; i < p.size(); i++) {
      checkLabel(numClasses, p.label(i), "predictions", imageId);
    }
  }

  /**
   * The indexes of the detections of class {@code c}, by descending score; ties keep their order (a
   * stable sort, as numpy's mergesort).
   */
  static int[] byDescendingScore(Predictions p, int c) {
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < p.size(); i++) {
      if (p.label(i) == c) {
        idx.add(i);
      }
    }
    Integer[] order = idx.toArray(new Integer[0]);
    java.util.Arrays.sort(order, (x, y) -> EvalArrays.descending(p.score(x), p.score(y)));
    int[] out = new int[order.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = order[i];
    }
    return out;
  }

  /** Forgets all added images. */
  void clear() {
    gts.clear();
    preds.clear();
    nextId = 0;
  }

  /** The number of images with ground truth. */
  int size() {
    return gts.size();
  }

  /**
   * The ids of the images with ground truth, in the order their ground truth was added.
   *
   * @throws IllegalArgumentException naming the first image id that has detections but no ground
   *     truth
   */
  List<Long> imageIds() {
    for (long id : preds.keySet()) {
      if (!gts.containsKey(id)) {
        throw new IllegalArgumentException(
            "detections for image id "
                + id
                + ", which has no ground truth (add its ground truth, empty if the image has no"
                + " objects)");
      }
    }
    return new ArrayList<>(gts.keySet());
  }

  GroundTruth groundTruth(long imageId) {
    return gts.get(imageId);
  }

  /** The image's detections; none if only its ground truth was added. */
  Predictions predictions(long imageId) {
    return preds.getOrDefault(imageId, NONE);
  }
}
