/**
 * RoI feature extraction with torchvision's semantics: {@link dev.jdetect.core.roi.RoiAlign}
 * ({@code roi_align}: output size, spatial scale, fixed or adaptive sampling ratio, the {@code
 * aligned} half-pixel shift; differentiable w.r.t. the features), {@link
 * dev.jdetect.core.roi.RoiPool} ({@code roi_pool}: rounded RoI corners, floor/ceil bins, max) and
 * {@link dev.jdetect.core.roi.MultiScaleRoiAlign} ({@code MultiScaleRoIAlign}: scales inferred from
 * the pyramid, FPN level rule with canonical scale 224, level 4, eps 1e-6). {@link
 * dev.jdetect.core.roi.Rois} converts per-image boxes to the {@code (K, 5)} RoI format {@code
 * (batchIndex, x1, y1, x2, y2)}.
 *
 * <p>RoIAlign is computed separably: torchvision's bilinear weights and its out-of-range rule split
 * into a y part and an x part, so each output bin is a weighted sum over a few rows and columns
 * whose weights come from a Java pass over the (small) RoI array. For inference on CPU those sums
 * run in Java over a channels-last copy of the features, in parallel over RoIs; for training or GPU
 * arrays they run as a sparse (bins x pixels) sampling matrix times the features, so PyTorch
 * autograd provides the gradient. Both give the same values (within float rounding).
 *
 * <p>All ops reject malformed input (wrong shapes or dtypes, non-finite or inverted RoIs, batch
 * indices outside the batch) with an {@link java.lang.IllegalArgumentException} naming the
 * argument, and return {@code (0, C, outH, outW)} for zero RoIs.
 */
package dev.jdetect.core.roi;
