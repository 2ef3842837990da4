/**
 * Anchor (prior, default box) generators.
 *
 * <ul>
 *   <li>{@link dev.jdetect.core.anchor.AnchorGenerator}: Faster R-CNN anchors per feature level,
 *       torchvision's rounded zero-centred form and the paper's classic base-16 form.
 *   <li>{@link dev.jdetect.core.anchor.DefaultBoxGenerator}: SSD default boxes (torchvision), in
 *       relative {@code (cx, cy, w, h)} or image-pixel {@code (x1, y1, x2, y2)}.
 *   <li>{@link dev.jdetect.core.anchor.MultiBoxPrior}: Dive into Deep Learning's {@code
 *       multibox_prior} ({@code n + m - 1} boxes per pixel) for TinySSD, and {@link
 *       dev.jdetect.core.anchor.MultiBoxPriors}, one per feature map.
 * </ul>
 *
 * <p>{@link dev.jdetect.core.anchor.AnchorSource} is what a single-shot detector takes: {@code
 * DefaultBoxGenerator} and {@code MultiBoxPriors} implement it.
 *
 * <p>Generators are immutable; their per-level base shapes are computed once at build time and the
 * grids are laid out with batched NDArray ops on the caller's manager's device.
 */
package dev.jdetect.core.anchor;
