/**
 * Detection datasets: readers, the per-image sample type, the data pipeline and batching, and a
 * synthetic data generator.
 *
 * <ul>
 *   <li>{@link dev.jdetect.train.data.VocReader}, {@link dev.jdetect.train.data.CocoReader} and
 *       {@link dev.jdetect.train.data.CsvReader} read annotations (no pixels) into an {@link
 *       dev.jdetect.train.data.AnnotationSet}: class names (labels 1..C, 0 is background) and one
 *       {@link dev.jdetect.train.data.ImageAnnotation} per image with boxes {@code (x1, y1, x2,
 *       y2)} in continuous pixels, {@code difficult} (VOC) and {@code crowd} (COCO) flags.
 *   <li>{@link dev.jdetect.train.data.SampleData} is the one data pipeline of training and
 *       evaluation: it loads {@link dev.jdetect.train.data.DetectionSample}s (float32 CHW image in
 *       [0, 1], boxes, int64 labels, flags), applies a cached deterministic pre-processing and a
 *       random {@link dev.jdetect.train.data.DetectionTransform} drawing from the trainer's
 *       generator, and stacks a {@link dev.jdetect.train.data.TrainingBatch} with padded targets
 *       (padding rows carry label -1). {@link dev.jdetect.train.data.TrainingData} is the interface
 *       the trainer reads; implement it for other sources.
 *   <li>{@link dev.jdetect.train.data.ImageFiles} decodes image files into float32 RGB {@code (3,
 *       H, W)} arrays in {@code [0, 1]}.
 *   <li>{@link dev.jdetect.train.data.SyntheticDataGenerator} writes deterministic banana-like and
 *       multi-class shapes sets as real VOC, CSV and COCO files.
 * </ul>
 *
 * <p>Bad data raises {@link dev.jdetect.train.data.DatasetFormatException} (an {@code
 * IllegalArgumentException}) naming the file and, where known, the line and field; with {@link
 * dev.jdetect.train.data.ErrorPolicy#SKIP_WITH_WARNING} readers skip the bad object or image and
 * record a warning instead. Boxes that stick out of their image beyond a reader's tolerance follow
 * its {@link dev.jdetect.train.data.BoxPolicy} (error, clip, skip the box, skip the image), counted
 * in {@link dev.jdetect.train.data.AnnotationSet#getOutsideBoxCounts()}.
 */
package dev.jdetect.train.data;
