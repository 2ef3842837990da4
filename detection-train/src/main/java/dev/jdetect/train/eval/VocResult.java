package dev.jdetect.train.eval;

import java.util.List;
import java.util.Locale;

/** The result of {@link VocEvaluator#evaluate()}: AP per class and their mean. */
public final class VocResult {

  private final double[] ap;
  private final int[] numGroundTruth;
  private final double[][] recall;
  private final double[][] precision;
  private final boolean meanOverAllClasses;

  VocResult(
      double[] ap,
      int[] numGroundTruth,
      double[][] recall,
      double[][] precision,
      boolean meanOverAllClasses) {
    this.meanOverAllClasses = meanOverAllClasses;
    this.ap = ap;
    this.numGroundTruth = numGroundTruth;
    this.recall = recall;
    this.precision = precision;
  }

  /**
   * Returns the number of classes C.
   *
   * @return C
   */
  public int getNumClasses() {
    return ap.length - 1;
  }

  /**
   * Returns the mean AP. By default it is the mean over the classes that have (non-difficult)
   * ground truth, the others left out; with {@link VocEvaluator.Builder#optMeanOverAllClasses} it
   * is the mean over all C classes with AP 0 for a class without ground truth. {@link
   * #getMapConvention()} says which.
   *
   * @return the mAP, or {@code NaN} if no class has ground truth and classes without are left out
   */
  public double getMap() {
    double sum = 0;
    int n = 0;
    for (int c = 1; c < ap.length; c++) {
      if (!Double.isNaN(ap[c])) {
        sum += ap[c];
        n++;
      }
    }
    if (meanOverAllClasses) {
      return sum / (ap.length - 1);
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /**
   * Returns the number of classes without (non-difficult) ground truth.
   *
   * @return the count
   */
  public int getNumClassesWithoutGroundTruth() {
    int n = 0;
    for (int c = 1; c < ap.length; c++) {
      if (numGroundTruth[c] == 0) {
        n++;
      }
    }
    return n;
  }

  /**
   * Describes which classes {@link #getMap()} averages over, to print next to the number, e.g.
   * {@code "mean over 18 of 20 classes (2 without ground truth left out)"}.
   *
   * @return the description
   */
  public String getMapConvention() {
    int c = ap.length - 1;
    int missing = getNumClassesWithoutGroundTruth();
    if (meanOverAllClasses) {
      return missing == 0
          ? "mean over all " + c + " classes"
          : "mean over all " + c + " classes (" + missing + " without ground truth count as 0)";
    }
    return missing == 0
        ? "mean over all " + c + " classes"
        : "mean over "
            + (c - missing)
            + " of "
            + c
            + " classes ("
            + missing
            + " without ground truth left out)";
  }

  /**
   * Returns the AP of a class.
   *
   * @param label the class, 1..C
   * @return the AP, or {@code NaN} if the class has no (non-difficult) ground truth
   */
  public double getAp(int label) {
    check(label);
    return ap[label];
  }

  /**
   * Returns the number of non-difficult ground-truth objects of a class.
   *
   * @param label the class, 1..C
   * @return the count
   */
  public int getNumGroundTruth(int label) {
    check(label);
    return numGroundTruth[label];
  }

  /**
   * Returns the recall after each detection of a class (in score order).
   *
   * @param label the class, 1..C
   * @return a copy of the recall curve (NaN entries when the class has no ground truth)
   */
  public double[] getRecall(int label) {
    check(label);
    return recall[label].clone();
  }

  /**
   * Returns the precision after each detection of a class (in score order).
   *
   * @param label the class, 1..C
   * @return a copy of the precision curve
   */
  public double[] getPrecision(int label) {
    check(label);
    return precision[label].clone();
  }

  private void check(int label) {
    if (label < 1 || label >= ap.length) {
      throw new IllegalArgumentException(
          "label must be in 1.." + (ap.length - 1) + ", got " + label);
    }
  }

  /**
   * Formats a table of AP per class and the mAP.
   *
   * @param classNames names of labels 1..C, or {@code null} to print numbers
   * @return the table
   */
  public String toTable(List<String> classNames) {
    StringBuilder sb = new StringBuilder();
    for (int c = 1; c < ap.length; c++) {
      String name =
          classNames != null && c - 1 < classNames.size() ? classNames.get(c - 1) : "" + c;
      sb.append(
          String.format(Locale.ROOT, "%-16s AP %.4f (%d GT)%n", name, ap[c], numGroundTruth[c]));
    }
    sb.append(
        String.format(Locale.ROOT, "%-16s    %.4f  %s%n", "mAP", getMap(), getMapConvention()));
    return sb.toString();
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "VocResult{mAP=%.4f}", getMap());
  }
}
