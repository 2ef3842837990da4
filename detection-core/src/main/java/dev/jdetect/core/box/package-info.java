/**
 * Box math on {@code (x1, y1, x2, y2)} boxes: area, pairwise IoU, clipping to an image, removal of
 * small boxes, conversion to and from {@code (cx, cy, w, h)}, and validation of user boxes.
 *
 * <p>Everything lives in the static utility {@link dev.jdetect.core.box.Boxes}. The functions are
 * NDArray compositions with torchvision's {@code torchvision.ops.boxes} semantics: they run on the
 * input's device, keep autograd, and accept empty {@code (0, 4)} sets.
 */
package dev.jdetect.core.box;
