package dev.jdetect.models;

import ai.djl.ndarray.NDArray;

/**
 * The ground truth of one image.
 *
 * @param boxes float32 {@code (G, 4)} boxes {@code (x1, y1, x2, y2)} in pixels; {@code G} may be 0
 * @param labels int64 {@code (G)} class labels in {@code 1..C}
 */
public record ImageTargets(NDArray boxes, NDArray labels) {}
