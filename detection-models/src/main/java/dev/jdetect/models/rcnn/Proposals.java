package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;

/**
 * The region proposals of one image, best first.
 *
 * @param boxes {@code (P, 4)} boxes in resized-image pixels, no gradient
 * @param scores {@code (P)} objectness probabilities
 */
public record Proposals(NDArray boxes, NDArray scores) {}
