/**
 * Element-wise training losses for detection heads, as {@link ai.djl.ndarray.NDArray} functions
 * with PyTorch / torchvision semantics: smooth L1 with {@code beta}, cross entropy with an ignore
 * label on (..., C) logits, binary cross entropy on logits, and the sigmoid and softmax focal
 * losses. See {@link dev.jdetect.core.loss.DetectionLosses}.
 *
 * <p>Nothing here reduces: callers sum or average with their own normaliser (torchvision divides
 * SSD losses by the number of foreground anchors, R-CNN box losses by the sampled count).
 */
package dev.jdetect.core.loss;
