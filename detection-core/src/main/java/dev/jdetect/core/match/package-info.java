/**
 * Assigning ground truth to anchors and choosing the training examples.
 *
 * <ul>
 *   <li>{@link dev.jdetect.core.match.Matcher}: IoU thresholds with background / ignore codes and
 *       optional low-quality matches (Faster R-CNN's RPN and box head).
 *   <li>{@link dev.jdetect.core.match.SsdMatcher}: one threshold, and every ground truth keeps its
 *       best prior (SSD).
 *   <li>{@link dev.jdetect.core.match.BalancedPositiveNegativeSampler}: a fixed-size, seeded draw
 *       of positives and negatives per image (Faster R-CNN).
 *   <li>{@link dev.jdetect.core.match.HardNegativeMiner}: negatives with the highest loss at a
 *       fixed neg:pos ratio (SSD).
 * </ul>
 *
 * <p>All follow torchvision 0.14.1 and are tested against its outputs; the documented deviations
 * are that an image with no ground truth is legal (all background) and that hard-negative mining
 * keeps a minimum number of negatives per image. Matchers take the (G, A) IoU matrix from {@code
 * dev.jdetect.core.box.Boxes#iou} (ground truths by anchors) and return int64 (A) codes: a
 * ground-truth index, {@code -1} (background) or {@code -2} (ignored).
 */
package dev.jdetect.core.match;
