package dev.jdetect.train.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.struct;

import dev.jdetect.train.eval.CocoEvaluator;
import dev.jdetect.train.eval.CocoResult;
import dev.jdetect.train.eval.GroundTruth;
import dev.jdetect.train.eval.ImageEvaluator;
import dev.jdetect.train.eval.MatchedDetections;
import dev.jdetect.train.eval.Predictions;
import dev.jdetect.train.eval.VocEvaluator;
import dev.jdetect.train.eval.VocResult;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * VOC and COCO mAP of a DataFrame of detections against a DataFrame of ground truth (layouts in
 * {@link DetectionFrames}), computed by the cluster.
 *
 * <p>The detections are grouped by image and joined with the images' ground truth; each partition
 * matches its images' detections to their ground truth (the IoUs and the greedy matching, the bulk
 * of the work) into one {@link MatchedDetections} accumulator; Spark merges the accumulators with
 * {@code treeAggregate}, and the driver ranks the detections of each class over all images and
 * computes the curves. The matching of an image depends on that image only and the ranking is a
 * total order, so the result is the one of the single-process {@link VocEvaluator} / {@link
 * CocoEvaluator} fed with the same images in ascending {@code image_id} order, whatever the
 * partitioning. What reaches the driver is one small record per detection (score, image id,
 * position, match flags), not the boxes.
 *
 * <p>Detections with equal scores in different images are ranked by ascending {@code image_id}
 * (pycocotools' order); within an image, detections are taken by descending score, then class and
 * coordinates. Detections of an image id without ground truth are refused, naming the id, as in the
 * single-process evaluators.
 */
public final class SparkEvaluation {

  private SparkEvaluation() {}

  /**
   * Computes VOC AP per class and mAP.
   *
   * @param groundTruth one row per image, {@link DetectionFrames#GROUND_TRUTH_SCHEMA}
   * @param predictions one row per detection, {@link DetectionFrames#PREDICTION_SCHEMA}
   * @param settings the evaluator's settings (classes, IoU threshold, 11-point metric)
   * @return the result, equal to {@link VocEvaluator#evaluate()} on the same images
   * @throws IllegalArgumentException if a column is missing, an image id repeats in the ground
   *     truth, detections name an image without ground truth, or a class id is out of range
   */
  public static VocResult voc(
      Dataset<Row> groundTruth, Dataset<Row> predictions, VocEvaluator.Builder settings) {
    MatchedDetections matches = match(groundTruth, predictions, settings::build);
    return settings.build().evaluate(matches);
  }

  /**
   * Computes COCO AP and AR (pycocotools' twelve numbers).
   *
   * @param groundTruth one row per image, {@link DetectionFrames#GROUND_TRUTH_SCHEMA}
   * @param predictions one row per detection, {@link DetectionFrames#PREDICTION_SCHEMA}
   * @param settings the evaluator's settings (classes)
   * @return the result, equal to {@link CocoEvaluator#evaluate()} on the same images
   * @throws IllegalArgumentException if a column is missing, an image id repeats in the ground
   *     truth, detections name an image without ground truth, or a class id is out of range
   */
  public static CocoResult coco(
      Dataset<Row> groundTruth, Dataset<Row> predictions, CocoEvaluator.Builder settings) {
    MatchedDetections matches = match(groundTruth, predictions, settings::build);
    return settings.build().evaluate(matches);
  }

  /**
   * A serializable factory of the evaluator the executors match images with.
   *
   * @param <T> the evaluator type
   */
  public interface EvaluatorFactory<T extends ImageEvaluator> extends Supplier<T>, Serializable {}

  /**
   * Matches every image on the executors and merges the per-partition results: the distributed part
   * of {@link #voc} and {@link #coco}, for an evaluation of your own.
   *
   * @param groundTruth one row per image, {@link DetectionFrames#GROUND_TRUTH_SCHEMA}
   * @param predictions one row per detection, {@link DetectionFrames#PREDICTION_SCHEMA}
   * @param evaluator creates the evaluator each partition matches with
   * @return the merged matches of all images (image keys are the image ids)
   */
  public static MatchedDetections match(
      Dataset<Row> groundTruth,
      Dataset<Row> predictions,
      EvaluatorFactory<? extends ImageEvaluator> evaluator) {
    Dataset<Row> gt =
        groundTruth.select(
            DetectionFrames.column(groundTruth, "image_id", "ground truth")
                .cast("long")
                .as("image_id"),
            DetectionFrames.column(groundTruth, "objects", "ground truth").as("objects"));
    Column[] fields = new Column[6];
    String[] names = {"class_id", "score", "xmin", "ymin", "xmax", "ymax"};
    for (int i = 0; i < names.length; i++) {
      fields[i] =
          DetectionFrames.column(predictions, names[i], "predictions")
              .cast(i == 0 ? "int" : "double")
              .as(names[i]);
    }
    Dataset<Row> perImage =
        predictions
            .groupBy(
                DetectionFrames.column(predictions, "image_id", "predictions")
                    .cast("long")
                    .as("id"))
            .agg(collect_list(struct(fields)).as("detections"));
    Dataset<Row> joined =
        gt.join(perImage, gt.col("image_id").equalTo(perImage.col("id")), "full_outer")
            .select(col("image_id"), col("id"), col("objects"), col("detections"));
    return joined
        .javaRDD()
        .mapPartitions(rows -> matchPartition(rows, evaluator))
        .treeAggregate(
            evaluator.get().newMatches(), MatchedDetections::merge, MatchedDetections::merge);
  }

  private static Iterator<MatchedDetections> matchPartition(
      Iterator<Row> rows, Supplier<? extends ImageEvaluator> factory) {
    ImageEvaluator evaluator = factory.get();
    MatchedDetections matches = evaluator.newMatches();
    // the join partitions by image id, so a repeated id meets its twin in this partition
    Set<Long> seen = new HashSet<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      if (!r.isNullAt(0) && !seen.add(r.getLong(0))) {
        throw new IllegalArgumentException(
            "ground truth has more than one row for image id " + r.getLong(0));
      }
      if (r.isNullAt(0)) {
        throw new IllegalArgumentException(
            "detections for image id "
                + r.getLong(1)
                + ", which has no ground truth (give every image a ground-truth row, with an empty"
                + " objects array if it has no objects)");
      }
      GroundTruth g = DetectionFrames.groundTruth(r.getList(2));
      List<Row> dets = r.isNullAt(3) ? Collections.emptyList() : r.getList(3);
      Predictions p = DetectionFrames.predictions(dets);
      evaluator.match(r.getLong(0), g, p, matches);
    }
    return Arrays.asList(matches).iterator();
  }
}
