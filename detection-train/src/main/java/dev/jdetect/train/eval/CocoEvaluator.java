package dev.jdetect.train.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Average precision and recall with the COCO rules, following pycocotools' {@code COCOeval} for
 * boxes.
 *
 * <ul>
 *   <li>IoU thresholds {@code 0.50:0.05:0.95} (numpy's {@code linspace}), 101 recall thresholds
 *       {@code 0:0.01:1}; size ranges all / small ({@code area <= 32^2}) / medium / large ({@code >
 *       96^2}) with both bounds inclusive as in pycocotools; maximum detections 1, 10, 100.
 *   <li>Per image and class, detections are sorted by descending score (stable) and cut to the
 *       largest maximum (100): as in pycocotools the cap applies per image <em>and class</em>.
 *   <li>Ground truth outside the size range and <b>crowd</b> regions are "ignored": they are
 *       matched last, a detection matched to them is neither TP nor FP, and a crowd region can
 *       absorb several detections. IoU with a crowd region divides the intersection by the
 *       detection's area. Unmatched detections outside the size range are ignored too.
 *   <li>Greedy matching in score order: each detection takes the best still-free ground truth with
 *       IoU {@code >=} the threshold, preferring non-ignored boxes.
 *   <li>Precision is made monotone from the right and sampled at the recall thresholds with a left
 *       {@code searchsorted}; AP is the mean over thresholds (and classes) of the entries of
 *       classes that have non-ignored ground truth; classes without are left out. A class with
 *       ground truth and no detections has AP 0.
 * </ul>
 *
 * <p>Images are processed in ascending image id, as pycocotools does whatever order they were added
 * in: detections with equal scores in different images are ranked by image id. Coordinates, areas
 * and scores are compared in double precision, as pycocotools does. Not thread-safe.
 */
public final class CocoEvaluator extends ImageEvaluator {

  /** The size ranges: all, small, medium, large (pycocotools' {@code areaRng}). */
  private static final double[][] AREA_RANGES = {
    {0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}
  };

  private static final int[] MAX_DETS = {1, 10, 100};
  private static final double[] IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
  private static final double[] RECALL_THRESHOLDS = linspace(0.0, 1.0, 101);

  private final int numClasses;

  private CocoEvaluator(Builder b) {
    super(b.numClasses);
    this.numClasses = b.numClasses;
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** numpy's linspace with endpoint: {@code start + i * step}, last element exactly stop. */
  static double[] linspace(double start, double stop, int num) {
    double[] out = new double[num];
    double step = (stop - start) / (num - 1);
    for (int i = 0; i < num; i++) {
      out[i] = i * step + start;
    }
    out[num - 1] = stop;
    return out;
  }

  /** Per (image, class, area range) matching result, like pycocotools' evaluateImg. */
  private static final class ImageEval {
    double[] dtScores;
    boolean[][] dtMatched; // [T][D]
    boolean[][] dtIgnore; // [T][D]
    boolean[] gtIgnore; // [G]
  }

  private static ImageEval evaluateImage(GroundTruth g, Predictions p, int c, double[] range) {
    List<Integer> gtIdx = new ArrayList<>();
    for (int j = 0; j < g.size(); j++) {
      if (g.label(j) == c) {
        gtIdx.add(j);
      }
    }
    // dts: by descending score (stable), at most maxDets[-1]
    int[] dOrder = EvalImages.byDescendingScore(p, c);
    if (gtIdx.isEmpty() && dOrder.length == 0) {
      return null;
    }
    // gts: non-ignored first (stable)
    int ng = gtIdx.size();
    boolean[] ignoreRaw = new boolean[ng];
    for (int k = 0; k < ng; k++) {
      int j = gtIdx.get(k);
      double a = g.area(j);
      ignoreRaw[k] = g.isCrowd(j) || a < range[0] || a > range[1];
    }
    Integer[] gOrder = new Integer[ng];
    for (int k = 0; k < ng; k++) {
      gOrder[k] = k;
    }
    Arrays.sort(gOrder, (x, y) -> Boolean.compare(ignoreRaw[x], ignoreRaw[y]));
    int[] gts = new int[ng];
    boolean[] gtIg = new boolean[ng];
    boolean[] crowd = new boolean[ng];
    for (int k = 0; k < ng; k++) {
      gts[k] = gtIdx.get(gOrder[k]);
      gtIg[k] = ignoreRaw[gOrder[k]];
      crowd[k] = g.isCrowd(gts[k]);
    }
    int nd = Math.min(dOrder.length, MAX_DETS[MAX_DETS.length - 1]);
    int[] dts = new int[nd];
    double[] scores = new double[nd];
    for (int k = 0; k < nd; k++) {
      dts[k] = dOrder[k];
      scores[k] = p.score(dts[k]);
    }
    double[][] ious = new double[nd][ng];
    for (int d = 0; d < nd; d++) {
      for (int k = 0; k < ng; k++) {
        ious[d][k] = Iou.cocoIou(p, dts[d], g, gts[k]);
      }
    }
    int nt = IOU_THRESHOLDS.length;
    boolean[][] gtm = new boolean[nt][ng];
    boolean[][] dtm = new boolean[nt][nd];
    boolean[][] dtIg = new boolean[nt][nd];
    for (int t = 0; t < nt; t++) {
      for (int d = 0; d < nd; d++) {
        double iou = Math.min(IOU_THRESHOLDS[t], 1 - 1e-10);
        int m = -1;
        for (int k = 0; k < ng; k++) {
          if (gtm[t][k] && !crowd[k]) {
            continue;
          }
          if (m > -1 && !gtIg[m] && gtIg[k]) {
            break;
          }
          if (ious[d][k] < iou) {
            continue;
          }
          iou = ious[d][k];
          m = k;
        }
        if (m == -1) {
          continue;
        }
        dtIg[t][d] = gtIg[m];
        dtm[t][d] = true;
        gtm[t][m] = true;
      }
    }
    for (int d = 0; d < nd; d++) {
      double a = Iou.predArea(p, dts[d]);
      boolean outside = a < range[0] || a > range[1];
      for (int t = 0; t < nt; t++) {
        dtIg[t][d] = dtIg[t][d] || (!dtm[t][d] && outside);
      }
    }
    ImageEval e = new ImageEval();
    e.dtScores = scores;
    e.dtMatched = dtm;
    e.dtIgnore = dtIg;
    e.gtIgnore = gtIg;
    return e;
  }

  /**
   * Runs the evaluation.
   *
   * @return the result
   */
  public CocoResult evaluate() {
    MatchedDetections matches = newMatches();
    for (long imageId : images.imageIds()) {
      match(imageId, images.groundTruth(imageId), images.predictions(imageId), matches);
    }
    return evaluate(matches);
  }

  /**
   * Returns an empty partial result for {@link #match} and {@link #evaluate(MatchedDetections)}.
   *
   * @return the empty matches, one group per class and size range
   */
  @Override
  public MatchedDetections newMatches() {
    return new MatchedDetections(numClasses * AREA_RANGES.length);
  }

  /**
   * Matches one image's detections to its ground truth (per class and size range, at every IoU
   * threshold, as pycocotools' {@code evaluateImg}) and adds the outcome to {@code into}. The
   * ranking over images happens in {@link #evaluate(MatchedDetections)}, so images may be matched
   * in any order, on any machine.
   *
   * @param imageId the image id: detections with equal scores in different images are ranked by
   *     ascending id, as pycocotools does
   * @param groundTruth the image's ground truth
   * @param predictions the image's detections
   * @param into the partial result to add to
   * @throws IllegalArgumentException if a label is out of range
   */
  @Override
  public void match(
      long imageId, GroundTruth groundTruth, Predictions predictions, MatchedDetections into) {
    EvalImages.checkLabels(numClasses, imageId, groundTruth, predictions);
    int nt = IOU_THRESHOLDS.length;
    for (int k = 0; k < numClasses; k++) {
      for (int a = 0; a < AREA_RANGES.length; a++) {
        ImageEval e = evaluateImage(groundTruth, predictions, k + 1, AREA_RANGES[a]);
        if (e == null) {
          continue;
        }
        MatchedDetections.Group group = into.group(k * AREA_RANGES.length + a);
        for (boolean ig : e.gtIgnore) {
          group.positives += ig ? 0 : 1;
        }
        for (int d = 0; d < e.dtScores.length; d++) {
          int flags = 0;
          for (int t = 0; t < nt; t++) {
            flags |= (e.dtMatched[t][d] ? 1 : 0) << t;
            flags |= (e.dtIgnore[t][d] ? 1 : 0) << (nt + t);
          }
          group.add(e.dtScores[d], imageId, d, flags);
        }
      }
    }
  }

  /**
   * Runs the evaluation on matched images: per class and size range, the detections of all images
   * ranked by descending score (ties by image id, then within the image).
   *
   * @param matches the merged matches of all images, from this evaluator's {@link #newMatches}
   * @return the result
   * @throws IllegalArgumentException if the matches have another number of groups
   */
  public CocoResult evaluate(MatchedDetections matches) {
    int nt = IOU_THRESHOLDS.length;
    int nr = RECALL_THRESHOLDS.length;
    int na = AREA_RANGES.length;
    int nm = MAX_DETS.length;
    if (matches.numGroups() != numClasses * na) {
      throw new IllegalArgumentException(
          "matches have " + matches.numGroups() + " groups, the evaluator " + numClasses * na);
    }
    // precision[t][r][k][a][m], recall[t][k][a][m]; -1 = no ground truth
    double[][][][][] precision = new double[nt][nr][numClasses][na][nm];
    double[][][][] recall = new double[nt][numClasses][na][nm];
    for (double[][][][] x : precision) {
      for (double[][][] y : x) {
        for (double[][] z : y) {
          for (double[] w : z) {
            Arrays.fill(w, -1);
          }
        }
      }
    }
    for (double[][][] x : recall) {
      for (double[][] y : x) {
        for (double[] z : y) {
          Arrays.fill(z, -1);
        }
      }
    }
    for (int k = 0; k < numClasses; k++) {
      for (int a = 0; a < na; a++) {
        MatchedDetections.Group group = matches.group(k * na + a);
        if (group.positives == 0) {
          continue; // no non-ignored ground truth: the entries stay -1
        }
        Integer[] ranked = group.ranked();
        for (int m = 0; m < nm; m++) {
          accumulate(group, ranked, MAX_DETS[m], k, a, m, precision, recall);
        }
      }
    }
    return new CocoResult(precision, recall, IOU_THRESHOLDS.clone());
  }

  private static void accumulate(
      MatchedDetections.Group group,
      Integer[] ranked,
      int maxDet,
      int k,
      int a,
      int m,
      double[][][][][] precision,
      double[][][][] recall) {
    // the first maxDet detections of every image, in rank order
    int[] kept = new int[ranked.length];
    int total = 0;
    for (int i : ranked) {
      if (group.positions[i] < maxDet) {
        kept[total++] = group.flags[i];
      }
    }
    double npig = group.positives;
    int nt = IOU_THRESHOLDS.length;
    double eps = Math.ulp(1.0); // np.spacing(1)
    for (int t = 0; t < nt; t++) {
      double[] rc = new double[total];
      double[] pr = new double[total];
      double tp = 0;
      double fp = 0;
      for (int i = 0; i < total; i++) {
        boolean matched = (kept[i] >> t & 1) != 0;
        boolean ignored = (kept[i] >> (nt + t) & 1) != 0;
        if (matched && !ignored) {
          tp++;
        } else if (!matched && !ignored) {
          fp++;
        }
        rc[i] = tp / npig;
        pr[i] = tp / (fp + tp + eps);
      }
      recall[t][k][a][m] = total > 0 ? rc[total - 1] : 0;
      for (int i = total - 1; i > 0; i--) {
        if (pr[i] > pr[i - 1]) {
          pr[i - 1] = pr[i];
        }
      }
      for (int r = 0; r < RECALL_THRESHOLDS.length; r++) {
        int idx = searchLeft(rc, RECALL_THRESHOLDS[r]);
        precision[t][r][k][a][m] = idx < total ? pr[idx] : 0;
      }
    }
  }

  /** numpy's searchsorted(side='left'): first index with a[i] >= v. */
  private static int searchLeft(double[] a, double v) {
    int lo = 0;
    int hi = a.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Builder for {@link CocoEvaluator}; serializable, so distributed evaluations can ship it. */
  public static final class Builder implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private int numClasses = -1;

    private Builder() {}

    /**
     * Sets the number of object classes C (labels 1..C). Required.
     *
     * @param numClasses C, {@code >= 1}
     * @return this builder
     */
    public Builder setNumClasses(int numClasses) {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
      }
      this.numClasses = numClasses;
      return this;
    }

    /**
     * Builds the evaluator.
     *
     * @return the evaluator
     */
    public CocoEvaluator build() {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be set");
      }
      return new CocoEvaluator(this);
    }
  }
}
