/**
 * Non-maximum suppression with torchvision's exact semantics: {@link dev.jdetect.core.nms.Nms#nms}
 * (greedy NMS, optionally keeping the top {@code k}) and {@link
 * dev.jdetect.core.nms.Nms#batchedNms} (independent NMS per class, FPN level or image).
 *
 * <p>Semantics: boxes are visited by descending score with ties in index order (a stable sort); a
 * box is dropped when a kept box overlaps it with float32 IoU strictly greater than the (double)
 * threshold, IoU being computed as torchvision's CPU kernel does. Results are int64 indices in
 * descending score order. torchvision's own {@code batched_nms} orders equal scores arbitrarily on
 * large inputs; here ties are always in index order.
 *
 * <p>Two implementations return identical indices. On CPU the boxes are pulled into Java arrays
 * once and suppressed against a grid of the kept boxes (one grid per box-size class, only size
 * classes that can reach the threshold are visited), with the groups of a batched call processed in
 * parallel: far fewer IoU tests than torchvision's all-pairs scan. For other devices a pure NDArray
 * path (blocked IoU matrices resolved by a fixed-point iteration) keeps the data on the device.
 * {@link dev.jdetect.core.nms.Nms.Backend} forces either one.
 */
package dev.jdetect.core.nms;
