package dev.jdetect.train.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ObjectAnnotation;
import dev.jdetect.train.eval.CocoEvaluator;
import dev.jdetect.train.eval.CocoResult;
import dev.jdetect.train.eval.GroundTruth;
import dev.jdetect.train.eval.MatchedDetections;
import dev.jdetect.train.eval.VocEvaluator;
import dev.jdetect.train.eval.VocResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class SparkEvaluationTest {

  private static final int CLASSES = 3;
  private static final int IMAGES = 60;

  private static AnnotationSet annotations;
  private static List<Row> detections;

  /**
   * 60 images, 3 classes: 0 to 4 objects each (some difficult, some crowd, sizes across COCO's
   * small/medium/large), detections near most objects plus strays, scores on a 0.05 grid so that
   * many tie across and within images; image 7 has no objects but detections, image 8 objects but
   * no detections.
   */
  @BeforeAll
  static void generate() {
    Random r = new Random(5);
    List<ImageAnnotation> images = new ArrayList<>();
    detections = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      List<ObjectAnnotation> objects = new ArrayList<>();
      int n = i == 7 ? 0 : r.nextInt(5);
      for (int k = 0; k < n; k++) {
        double side = 8 + r.nextInt(150);
        double x = r.nextInt(300);
        double y = r.nextInt(300);
        int label = 1 + r.nextInt(CLASSES);
        boolean difficult = r.nextInt(6) == 0;
        boolean crowd = r.nextInt(8) == 0;
        objects.add(new ObjectAnnotation(label, x, y, x + side, y + side * 0.8, difficult, crowd));
        for (int d = i == 8 ? 0 : r.nextInt(3); d > 0; d--) {
          double j = r.nextGaussian() * side * 0.1;
          int cls = r.nextInt(5) == 0 ? 1 + r.nextInt(CLASSES) : label;
          detections.add(det(i, cls, score(r), x + j, y - j, x + side + j, y + side * 0.8));
        }
      }
      for (int s = i == 8 ? 0 : r.nextInt(3); s > 0; s--) {
        double x = r.nextInt(400);
        double y = r.nextInt(400);
        detections.add(det(i, 1 + r.nextInt(CLASSES), score(r), x, y, x + 30, y + 40));
      }
      images.add(new ImageAnnotation("img" + i, Path.of("img" + i + ".jpg"), 500, 500, objects));
    }
    annotations = new AnnotationSet(List.of("a", "b", "c"), images);
    Collections.shuffle(detections, r);
  }

  private static double score(Random r) {
    return (1 + r.nextInt(19)) * 0.05;
  }

  private static Row det(long image, int cls, double score, double... box) {
    return RowFactory.create(image, cls, score, box[0], box[1], box[2], box[3]);
  }

  /** The single-process evaluation: images in ascending id, each image's detections in order. */
  private static <T extends dev.jdetect.train.eval.ImageEvaluator> T reference(T evaluator) {
    for (int i = 0; i < IMAGES; i++) {
      List<Row> mine = new ArrayList<>();
      for (Row d : detections) {
        if (d.getLong(0) == i) {
          mine.add(RowFactory.create(d.get(1), d.get(2), d.get(3), d.get(4), d.get(5), d.get(6)));
        }
      }
      evaluator.add(
          i, GroundTruth.of(annotations.getImages().get(i)), DetectionFrames.predictions(mine));
    }
    return evaluator;
  }

  @Test
  void mapEqualsTheSingleProcessEvaluatorsForEveryPartitioning(SparkSession spark) {
    VocEvaluator.Builder voc = VocEvaluator.builder().setNumClasses(CLASSES);
    VocEvaluator.Builder voc07 = VocEvaluator.builder().setNumClasses(CLASSES).setUse07Metric(true);
    CocoEvaluator.Builder coco = CocoEvaluator.builder().setNumClasses(CLASSES);
    VocResult vocRef = reference(voc.build()).evaluate();
    VocResult voc07Ref = reference(voc07.build()).evaluate();
    CocoResult cocoRef = reference(coco.build()).evaluate();
    // the data exercise what they should: ties, difficult and crowd objects, every size range
    assertTrue(vocRef.getMap() > 0.2 && vocRef.getMap() < 0.95, "VOC mAP " + vocRef.getMap());
    assertTrue(cocoRef.getApSmall() >= 0 && cocoRef.getApLarge() >= 0, cocoRef.summary());
    String before = spark.conf().get("spark.sql.shuffle.partitions");
    try {
      for (int partitions : new int[] {1, 2, 7}) {
        spark.conf().set("spark.sql.shuffle.partitions", Integer.toString(partitions));
        Dataset<Row> gt = DetectionFrames.groundTruth(spark, annotations).repartition(partitions);
        Dataset<Row> preds =
            spark
                .createDataFrame(detections, DetectionFrames.PREDICTION_SCHEMA)
                .repartition(partitions);
        // both VOC metrics from one distributed matching (matching does not depend on the metric)
        MatchedDetections matches = SparkEvaluation.match(gt, preds, voc::build);
        VocResult v = voc.build().evaluate(matches);
        VocResult v07 = voc07.build().evaluate(matches);
        CocoResult c = SparkEvaluation.coco(gt, preds, coco);
        String where = partitions + " partition(s)";
        assertEquals(vocRef.getMap(), v.getMap(), 1e-12, where);
        assertEquals(voc07Ref.getMap(), v07.getMap(), 1e-12, where);
        for (int k = 1; k <= CLASSES; k++) {
          assertEquals(vocRef.getAp(k), v.getAp(k), 1e-12, where);
          assertArrayEquals(vocRef.getPrecision(k), v.getPrecision(k), 1e-12, where);
          assertEquals(cocoRef.getClassAp(k), c.getClassAp(k), 1e-12, where);
        }
        assertArrayEquals(cocoRef.getStats(), c.getStats(), 1e-12, where);
      }
    } finally {
      spark.conf().set("spark.sql.shuffle.partitions", before);
    }
  }

  @Test
  void detectionsOfAnImageWithoutGroundTruthAreRefused(SparkSession spark) {
    Dataset<Row> gt = DetectionFrames.groundTruth(spark, annotations);
    Dataset<Row> preds =
        spark.createDataFrame(
            List.of(det(IMAGES + 5, 1, 0.5, 0, 0, 10, 10)), DetectionFrames.PREDICTION_SCHEMA);
    VocEvaluator.Builder voc = VocEvaluator.builder().setNumClasses(CLASSES);
    SparkException e =
        assertThrows(SparkException.class, () -> SparkEvaluation.voc(gt, preds, voc));
    assertTrue(e.getMessage().contains("image id " + (IMAGES + 5)), e.getMessage());
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () -> SparkEvaluation.voc(gt, preds.drop("score"), voc));
    assertTrue(missing.getMessage().contains("'score'"), missing.getMessage());
  }
}
