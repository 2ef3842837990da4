package dev.jdetect.train.eval;

/** IoU of continuous pixel boxes in double precision. Package-private. */
final class Iou {

  private Iou() {}

  static double area(double x1, double y1, double x2, double y2) {
    return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  }

  static double intersection(Predictions p, int i, GroundTruth g, int j) {
    double iw =
        Math.min((double) p.box(i, 2), g.box(j, 2)) - Math.max((double) p.box(i, 0), g.box(j, 0));
    double ih =
        Math.min((double) p.box(i, 3), g.box(j, 3)) - Math.max((double) p.box(i, 1), g.box(j, 1));
    return iw <= 0 || ih <= 0 ? 0 : iw * ih;
  }

  static double predArea(Predictions p, int i) {
    return area(p.box(i, 0), p.box(i, 1), p.box(i, 2), p.box(i, 3));
  }

  static double gtArea(GroundTruth g, int j) {
    return area(g.box(j, 0), g.box(j, 1), g.box(j, 2), g.box(j, 3));
  }

  /** Ordinary IoU. */
  static double iou(Predictions p, int i, GroundTruth g, int j) {
    double inter = intersection(p, i, g, j);
    double union = predArea(p, i) + gtArea(g, j) - inter;
    return union > 0 ? inter / union : 0;
  }

  /** COCO's IoU: for a crowd region the union is the detection's area. */
  static double cocoIou(Predictions p, int i, GroundTruth g, int j) {
    double inter = intersection(p, i, g, j);
    double union = g.isCrowd(j) ? predArea(p, i) : predArea(p, i) + gtArea(g, j) - inter;
    return union > 0 ? inter / union : 0;
  }
}
