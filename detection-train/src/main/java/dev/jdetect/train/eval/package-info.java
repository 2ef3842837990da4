/**
 * Detection evaluation.
 *
 * <ul>
 *   <li>{@link dev.jdetect.train.eval.VocEvaluator}: Pascal VOC mAP (2007 11-point or area under
 *       the monotone PR curve), difficult objects ignored.
 *   <li>{@link dev.jdetect.train.eval.CocoEvaluator}: COCO AP@[.50:.95], AP50, AP75, per size, and
 *       AR@1/10/100, following pycocotools (crowd regions matched without counting, 101-point
 *       interpolation, at most 100 detections per image and class).
 *   <li>{@link dev.jdetect.train.eval.TinySsdMetrics}: D2L's anchor class error and masked bbox
 *       MAE.
 * </ul>
 *
 * <p>Inputs are per-image {@link dev.jdetect.train.eval.GroundTruth} and {@link
 * dev.jdetect.train.eval.Predictions}, built by hand or from NDArrays / annotations; labels are
 * 1..C and boxes {@code (x1, y1, x2, y2)} pixels of the same image, kept in double precision. Both
 * evaluators are {@link dev.jdetect.train.eval.ImageEvaluator}s: images are added by id (ground
 * truth and detections together or separately), and detections for an id without ground truth are
 * refused, as the reference tools do.
 */
package dev.jdetect.train.eval;
