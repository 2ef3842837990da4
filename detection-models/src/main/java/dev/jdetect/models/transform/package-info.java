/**
 * The image preprocessing steps every model's input transform is built from, each equal to
 * torchvision's: {@link dev.jdetect.models.transform.Normalization} ({@code (x - mean) / std} per
 * channel) and {@link dev.jdetect.models.transform.BilinearResize} ({@code F.interpolate(mode =
 * "bilinear", align_corners = False)}).
 */
package dev.jdetect.models.transform;
