package dev.jdetect.train;

import dev.jdetect.models.DetectionModel;
import java.util.Map;

/**
 * Computes validation metrics at the end of an epoch (for example VOC mAP@0.5 on a held-out split).
 * The trainer writes them to the metrics CSV and plots every metric in {@code [0, 1]} next to the
 * loss curves.
 */
@FunctionalInterface
public interface EpochEvaluator {

  /**
   * Evaluates the model.
   *
   * @param model the model, its parameters as trained so far
   * @param epoch the 0-based epoch just finished
   * @return metric name to value, in display order (e.g. {@code {"mAP@0.5": 0.91}})
   */
  Map<String, Double> evaluate(DetectionModel model, int epoch);
}
