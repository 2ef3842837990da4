package dev.jdetect.train.eval;

import java.util.List;

/**
 * Mean average precision with the Pascal VOC rules (the devkit's {@code voc_eval}).
 *
 * <p>For each class, all detections of that class over all images are sorted by descending score (a
 * stable sort: ties keep the order in which the images' ground truth was added, then the order
 * within an image; the devkit's {@code argsort} is not stable for many ties). Each detection is
 * matched to the ground-truth box of its class in its image with the highest IoU (the first one on
 * ties); if that IoU is strictly greater than the threshold (default 0.5) the detection is a true
 * positive, unless the box is already taken (false positive) or is <b>difficult</b> (then the
 * detection is neither); otherwise it is a false positive. Recall is {@code TP / (non-difficult
 * GT)}, precision {@code TP / (TP + FP)}. AP is either the VOC2007 11-point interpolated AP (mean
 * over recall thresholds 0, 0.1, ..., 1 of the highest precision at recall {@code >=} the
 * threshold) or, by default, the area under the monotone (right-to-left maximum) precision/recall
 * curve as in VOC2010+. A class with ground truth but no detections has AP 0; a class without
 * (non-difficult) ground truth has AP {@code NaN} and is left out of the mean by default ({@link
 * Builder#optMeanOverAllClasses} averages over all classes instead, as the devkit scripts do).
 * Detections of an image id without ground truth are refused, as in the devkit (its {@code
 * class_recs[image_id]} lookup fails).
 *
 * <p>IoU is computed on continuous pixel boxes without the devkit's "+1"; with the conversion of
 * {@code dev.jdetect.train.data.VocReader} this equals the devkit's IoU. Not thread-safe.
 */
public final class VocEvaluator extends ImageEvaluator {

  private static final int TRUE_POSITIVE = 1;
  private static final int FALSE_POSITIVE = 2;

  private final int numClasses;
  private final double iouThreshold;
  private final boolean use07Metric;
  private final boolean meanOverAllClasses;

  private VocEvaluator(Builder b) {
    super(b.numClasses);
    this.numClasses = b.numClasses;
    this.iouThreshold = b.iouThreshold;
    this.use07Metric = b.use07Metric;
    this.meanOverAllClasses = b.meanOverAllClasses;
  }

  /**
   * Returns a new builder.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Computes AP per class and the mean.
   *
   * @return the result
   */
  public VocResult evaluate() {
    MatchedDetections matches = newMatches();
    List<Long> imageIds = images.imageIds();
    for (int im = 0; im < imageIds.size(); im++) {
      long id = imageIds.get(im);
      // the insertion index ranks score ties across images
      match(im, images.groundTruth(id), images.predictions(id), matches);
    }
    return evaluate(matches);
  }

  /**
   * Returns an empty partial result for {@link #match} and {@link #evaluate(MatchedDetections)}.
   *
   * @return the empty matches, one group per class
   */
  @Override
  public MatchedDetections newMatches() {
    return new MatchedDetections(numClasses);
  }

  /**
   * Matches one image's detections to its ground truth, class by class in descending score order,
   * and adds the outcome to {@code into}. The images' ranking happens in {@link
   * #evaluate(MatchedDetections)}, so images may be matched in any order, on any machine.
   *
   * @param imageKey the image's rank among images: detections with equal scores in different images
   *     are ranked by ascending key (the image id, or the order in which images were added)
   * @param groundTruth the image's ground truth
   * @param predictions the image's detections
   * @param into the partial result to add to
   * @throws IllegalArgumentException if a label is out of range
   */
  @Override
  public void match(
      long imageKey, GroundTruth groundTruth, Predictions predictions, MatchedDetections into) {
    EvalImages.checkLabels(numClasses, imageKey, groundTruth, predictions);
    for (int c = 1; c <= numClasses; c++) {
      MatchedDetections.Group group = into.group(c - 1);
      for (int j = 0; j < groundTruth.size(); j++) {
        if (groundTruth.label(j) == c && !groundTruth.isDifficult(j)) {
          group.positives++;
        }
      }
      int[] dets = EvalImages.byDescendingScore(predictions, c);
      boolean[] used = new boolean[groundTruth.size()];
      for (int r = 0; r < dets.length; r++) {
        group.add(
            predictions.score(dets[r]),
            imageKey,
            r,
            matchOne(groundTruth, predictions, dets[r], c, used));
      }
    }
  }

  /** Matches detection {@code k}: 1 = true positive, 2 = false positive, 0 = neither. */
  private int matchOne(GroundTruth g, Predictions p, int k, int c, boolean[] used) {
    double ovmax = Double.NEGATIVE_INFINITY;
    int jmax = -1;
    for (int j = 0; j < g.size(); j++) {
      if (g.label(j) != c) {
        continue;
      }
      double iou = Iou.iou(p, k, g, j);
      if (iou > ovmax) {
        ovmax = iou;
        jmax = j;
      }
    }
    if (!(ovmax > iouThreshold)) {
      return FALSE_POSITIVE;
    }
    if (g.isDifficult(jmax)) {
      return 0;
    }
    if (used[jmax]) {
      return FALSE_POSITIVE;
    }
    used[jmax] = true;
    return TRUE_POSITIVE;
  }

  /**
   * Computes AP per class and the mean from matched images: the detections of each class over all
   * images ranked by descending score (ties by image key, then within the image).
   *
   * @param matches the merged matches of all images, from this evaluator's {@link #newMatches}
   * @return the result
   * @throws IllegalArgumentException if the matches have another number of classes
   */
  public VocResult evaluate(MatchedDetections matches) {
    if (matches.numGroups() != numClasses) {
      throw new IllegalArgumentException(
          "matches have " + matches.numGroups() + " classes, the evaluator " + numClasses);
    }
    double[] ap = new double[numClasses + 1];
    int[] npos = new int[numClasses + 1];
    double[][] recalls = new double[numClasses + 1][];
    double[][] precisions = new double[numClasses + 1][];
    ap[0] = Double.NaN;
    for (int c = 1; c <= numClasses; c++) {
      MatchedDetections.Group group = matches.group(c - 1);
      npos[c] = Math.toIntExact(group.positives);
      Integer[] order = group.ranked();
      int nd = order.length;
      double[] tp = new double[nd];
      double[] fp = new double[nd];
      for (int d = 0; d < nd; d++) {
        int flag = group.flags[order[d]];
        tp[d] = flag == TRUE_POSITIVE ? 1 : 0;
        fp[d] = flag == FALSE_POSITIVE ? 1 : 0;
      }
      for (int d = 1; d < nd; d++) {
        tp[d] += tp[d - 1];
        fp[d] += fp[d - 1];
      }
      double[] rec = new double[nd];
      double[] prec = new double[nd];
      for (int d = 0; d < nd; d++) {
        rec[d] = tp[d] / npos[c];
        prec[d] = tp[d] / Math.max(tp[d] + fp[d], Math.ulp(1.0));
      }
      recalls[c] = rec;
      precisions[c] = prec;
      ap[c] = npos[c] == 0 ? Double.NaN : averagePrecision(rec, prec, use07Metric);
    }
    return new VocResult(ap, npos, recalls, precisions, meanOverAllClasses);
  }

  /**
   * VOC average precision of a precision/recall curve (the devkit's {@code voc_ap}).
   *
   * @param recall recall after each detection, non-decreasing
   * @param precision precision after each detection
   * @param use07Metric true for the 2007 11-point metric, false for the area under the monotone
   *     curve
   * @return the AP
   */
  public static double averagePrecision(double[] recall, double[] precision, boolean use07Metric) {
    if (recall.length != precision.length) {
      throw new IllegalArgumentException(
          "recall and precision must have the same length, got "
              + recall.length
              + " and "
              + precision.length);
    }
    int n = recall.length;
    if (use07Metric) {
      double ap = 0;
      for (int i = 0; i <= 10; i++) {
        double t = i * 0.1; // as numpy's arange(0., 1.1, 0.1)
        double p = 0;
        for (int k = 0; k < n; k++) {
          if (recall[k] >= t) {
            p = Math.max(p, precision[k]);
          }
        }
        ap += p / 11.0;
      }
      return ap;
    }
    double[] mrec = new double[n + 2];
    double[] mpre = new double[n + 2];
    mrec[0] = 0;
    mpre[0] = 0;
    for (int k = 0; k < n; k++) {
      mrec[k + 1] = recall[k];
      mpre[k + 1] = precision[k];
    }
    mrec[n + 1] = 1;
    mpre[n + 1] = 0;
    for (int i = n; i >= 0; i--) {
      mpre[i] = Math.max(mpre[i], mpre[i + 1]);
    }
    double ap = 0;
    for (int i = 0; i <= n; i++) {
      if (mrec[i + 1] != mrec[i]) {
        ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
      }
    }
    return ap;
  }

  /** Builder for {@link VocEvaluator}; serializable, so distributed evaluations can ship it. */
  public static final class Builder implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private int numClasses = -1;
    private double iouThreshold = 0.5;
    private boolean use07Metric;
    private boolean meanOverAllClasses;

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
     * Sets the IoU a match must exceed. Default 0.5.
     *
     * @param iouThreshold the threshold in [0, 1)
     * @return this builder
     */
    public Builder optIouThreshold(double iouThreshold) {
      if (!(iouThreshold >= 0 && iouThreshold < 1)) {
        throw new IllegalArgumentException("iouThreshold must be in [0, 1), got " + iouThreshold);
      }
      this.iouThreshold = iouThreshold;
      return this;
    }

    /**
     * Sets whether to use the VOC2007 11-point AP instead of the area under the curve. Default
     * false.
     *
     * @param use07Metric whether to use the 11-point AP
     * @return this builder
     */
    public Builder setUse07Metric(boolean use07Metric) {
      this.use07Metric = use07Metric;
      return this;
    }

    /**
     * Sets which classes the mAP averages over. By default (false) the mean is over the classes
     * that have non-difficult ground truth; classes without any are left out (their AP is {@code
     * NaN}). With true the mean is over all C classes and a class without ground truth counts as AP
     * 0, the convention of the VOC devkit's and py-faster-rcnn's {@code voc_eval} scripts when such
     * a class has no detections either (with detections their area-under-curve AP is {@code NaN}).
     * On the VOC test sets every class has ground truth and both give the same number.
     *
     * @param meanOverAllClasses whether to average over all classes
     * @return this builder
     */
    public Builder optMeanOverAllClasses(boolean meanOverAllClasses) {
      this.meanOverAllClasses = meanOverAllClasses;
      return this;
    }

    /**
     * Builds the evaluator.
     *
     * @return the evaluator
     */
    public VocEvaluator build() {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be set");
      }
      return new VocEvaluator(this);
    }
  }
}
