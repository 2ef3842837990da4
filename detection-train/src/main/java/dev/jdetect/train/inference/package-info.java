/**
 * Inference with trained jdetect models: {@link dev.jdetect.train.inference.Detector} turns DJL
 * {@code Image}s into {@code DetectedObjects} (boxes relative to the image), loads saved model
 * directories ({@code model.json} + weights, see {@link
 * dev.jdetect.train.inference.ModelDescription}) by rebuilding the named model through a {@link
 * dev.jdetect.train.inference.ModelRegistry} (a view of {@code dev.jdetect.models.zoo.ModelZoo}),
 * and {@link dev.jdetect.train.inference.DetectionDrawer} draws the results.
 *
 * <p>The design map lists this under {@code dev.jdetect.models.inference}; it lives in
 * detection-train because the saved-model format is shared with training.
 */
package dev.jdetect.train.inference;
