package dev.jdetect.train.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The images added to an evaluator: ground truth and detections in {@code add} order, every label
 * checked against {@code 1..C}. Package-private.
 */
final class EvalImages {

  private final int numClasses;
  private final List<GroundTruth> gts = new ArrayList<>();
  private final List<Predictions> preds = new ArrayList<>();

  EvalImages(int numClasses) {
    this.numClasses = numClasses;
  }

  /** Adds one image after checking that all its labels are in {@code 1..numClasses}. */
  void add(GroundTruth groundTruth, Predictions predictions) {
    Objects.requireNonNull(groundTruth, "groundTruth");
    Objects.requireNonNull(predictions, "predictions");
    for (int i = 0; i < groundTruth.size(); i++) {
      checkLabel(groundTruth.label(i), "groundTruth");
    }
    for (int i = 0; i < predictions.size(); i++) {
      checkLabel(predictions.label(i), "predictions");
    }
    gts.add(groundTruth);
    preds.add(predictions);
  }

  private void checkLabel(int label, String name) {
    if (label < 1 || label > numClasses) {
      throw new IllegalArgumentException(
          name + " label must be in 1.." + numClasses + ", got " + label);
    }
  }

  /** Forgets all added images. */
  void clear() {
    gts.clear();
    preds.clear();
  }

  int size() {
    return gts.size();
  }

  GroundTruth groundTruth(int image) {
    return gts.get(image);
  }

  Predictions predictions(int image) {
    return preds.get(image);
  }
}
