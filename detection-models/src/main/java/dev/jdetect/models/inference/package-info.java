/**
 * What inference needs around a model: {@link dev.jdetect.models.inference.ImageTensors}, the one
 * conversion between decoded images and the float32 RGB {@code (3, H, W)} tensors models take.
 */
package dev.jdetect.models.inference;
