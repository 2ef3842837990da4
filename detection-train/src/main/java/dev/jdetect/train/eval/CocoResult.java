package dev.jdetect.train.eval;

import java.util.Locale;

/**
 * The result of {@link CocoEvaluator#evaluate()}: pycocotools' twelve summary numbers and AP per
 * class. Every number is {@code -1} when no class has ground truth for it (as pycocotools prints).
 */
public final class CocoResult {

  /** Index of the "all" size range. */
  private static final int ALL = 0;

  private static final int MAX100 = 2;

  private final double[][][][][] precision; // [T][R][K][A][M]
  private final double[][][][] recall; // [T][K][A][M]
  private final double[] iouThresholds;

  CocoResult(double[][][][][] precision, double[][][][] recall, double[] iouThresholds) {
    this.precision = precision;
    this.recall = recall;
    this.iouThresholds = iouThresholds;
  }

  private double meanPrecision(int tOnly, int kOnly, int a, int m) {
    double sum = 0;
    int n = 0;
    for (int t = 0; t < precision.length; t++) {
      if (tOnly >= 0 && t != tOnly) {
        continue;
      }
      for (int r = 0; r < precision[t].length; r++) {
        for (int k = 0; k < precision[t][r].length; k++) {
          if (kOnly >= 0 && k != kOnly) {
            continue;
          }
          double v = precision[t][r][k][a][m];
          if (v > -1) {
            sum += v;
            n++;
          }
        }
      }
    }
    return n == 0 ? -1 : sum / n;
  }

  private double meanRecall(int a, int m) {
    double sum = 0;
    int n = 0;
    for (double[][][] x : recall) {
      for (double[][] y : x) {
        double v = y[a][m];
        if (v > -1) {
          sum += v;
          n++;
        }
      }
    }
    return n == 0 ? -1 : sum / n;
  }

  /**
   * Returns AP@[.50:.95] (all sizes, 100 detections), COCO's main number.
   *
   * @return the AP
   */
  public double getAp() {
    return meanPrecision(-1, -1, ALL, MAX100);
  }

  /**
   * Returns AP at IoU 0.50.
   *
   * @return AP50
   */
  public double getAp50() {
    return meanPrecision(0, -1, ALL, MAX100);
  }

  /**
   * Returns AP at IoU 0.75.
   *
   * @return AP75
   */
  public double getAp75() {
    return meanPrecision(5, -1, ALL, MAX100);
  }

  /**
   * Returns AP@[.50:.95] for small objects (area up to 32^2).
   *
   * @return AP small
   */
  public double getApSmall() {
    return meanPrecision(-1, -1, 1, MAX100);
  }

  /**
   * Returns AP@[.50:.95] for medium objects (32^2 to 96^2).
   *
   * @return AP medium
   */
  public double getApMedium() {
    return meanPrecision(-1, -1, 2, MAX100);
  }

  /**
   * Returns AP@[.50:.95] for large objects (above 96^2).
   *
   * @return AP large
   */
  public double getApLarge() {
    return meanPrecision(-1, -1, 3, MAX100);
  }

  /**
   * Returns the average recall with at most {@code maxDets} detections per image and class.
   *
   * @param maxDets 1, 10 or 100
   * @return AR
   */
  public double getAr(int maxDets) {
    switch (maxDets) {
      case 1:
        return meanRecall(ALL, 0);
      case 10:
        return meanRecall(ALL, 1);
      case 100:
        return meanRecall(ALL, 2);
      default:
        throw new IllegalArgumentException("maxDets must be 1, 10 or 100, got " + maxDets);
    }
  }

  /**
   * Returns AR@100 for small objects.
   *
   * @return AR small
   */
  public double getArSmall() {
    return meanRecall(1, MAX100);
  }

  /**
   * Returns AR@100 for medium objects.
   *
   * @return AR medium
   */
  public double getArMedium() {
    return meanRecall(2, MAX100);
  }

  /**
   * Returns AR@100 for large objects.
   *
   * @return AR large
   */
  public double getArLarge() {
    return meanRecall(3, MAX100);
  }

  /**
   * Returns AP@[.50:.95] of one class.
   *
   * @param label the class, 1..C
   * @return the AP, or {@code -1} if the class has no ground truth
   */
  public double getClassAp(int label) {
    int nk = precision[0][0].length;
    if (label < 1 || label > nk) {
      throw new IllegalArgumentException("label must be in 1.." + nk + ", got " + label);
    }
    return meanPrecision(-1, label - 1, ALL, MAX100);
  }

  /**
   * Returns the twelve numbers in pycocotools' order: AP, AP50, AP75, APs, APm, APl, AR1, AR10,
   * AR100, ARs, ARm, ARl.
   *
   * @return a new array
   */
  public double[] getStats() {
    return new double[] {
      getAp(), getAp50(), getAp75(), getApSmall(), getApMedium(), getApLarge(),
      getAr(1), getAr(10), getAr(100), getArSmall(), getArMedium(), getArLarge()
    };
  }

  /**
   * Returns the IoU thresholds used.
   *
   * @return a copy of the ten thresholds
   */
  public double[] getIouThresholds() {
    return iouThresholds.clone();
  }

  /**
   * Formats the summary like pycocotools' {@code summarize()}.
   *
   * @return twelve lines
   */
  public String summary() {
    String[] names = {
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
      "Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
      "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]"
    };
    double[] s = getStats();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < names.length; i++) {
      sb.append(' ').append(names[i]).append(String.format(Locale.ROOT, " = %.3f%n", s[i]));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT, "CocoResult{AP=%.4f, AP50=%.4f, AP75=%.4f}", getAp(), getAp50(), getAp75());
  }
}
