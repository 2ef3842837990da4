/**
 * Box-aware augmentations: every transform moves the boxes with the pixels and drops boxes that
 * leave the image, keeping labels and flags aligned.
 *
 * <p>{@link dev.jdetect.train.augment.PhotometricDistort}, {@link
 * dev.jdetect.train.augment.ZoomOut}, {@link dev.jdetect.train.augment.IouCrop}, {@link
 * dev.jdetect.train.augment.HorizontalFlip}, {@link dev.jdetect.train.augment.Resize} and {@link
 * dev.jdetect.train.augment.SanitizeBoxes} implement {@link
 * dev.jdetect.train.data.DetectionTransform}; {@link dev.jdetect.train.augment.Compose} chains them
 * ({@link dev.jdetect.train.augment.Compose#ssdTraining(int, int)} is torchvision's SSD recipe).
 * All randomness comes from the {@link java.util.Random} passed to {@code apply}, so runs are
 * reproducible from a seed; the deterministic parts ({@code HorizontalFlip.flip}, {@code
 * ZoomOut.expand}, {@code IouCrop.crop}) are public for exact use and testing. Images are float32
 * RGB {@code (3, H, W)} in {@code [0, 1]}; boxes are {@code (x1, y1, x2, y2)} pixels.
 */
package dev.jdetect.train.augment;
