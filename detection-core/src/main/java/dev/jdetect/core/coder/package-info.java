/**
 * Box regression coding: {@link dev.jdetect.core.coder.BoxCoder} turns matched ground-truth boxes
 * into {@code (dx, dy, dw, dh)} targets relative to anchors and decodes predicted deltas back into
 * boxes, with torchvision's weights, {@code x2 - x1} widths and {@code log(1000 / 16)} clamp.
 */
package dev.jdetect.core.coder;
