/**
 * Runnable examples, each a {@code main} and a picocli command run through {@link
 * dev.jdetect.examples.cli.Cli} (one {@code --help} format, one-line errors for bad values):
 *
 * <ul>
 *   <li>{@link dev.jdetect.examples.TrainTinySsd}: D2L's TinySSD on a generated banana set, VOC
 *       mAP@0.5 on held-out images, saved model and drawn predictions (the README's main job);
 *   <li>{@link dev.jdetect.examples.TrainSsd} and {@link dev.jdetect.examples.TrainFasterRcnn}: a
 *       VOC or COCO directory, or a generated shapes set by default;
 *   <li>{@link dev.jdetect.examples.Detect}: images in, PNG with boxes and JSON out, from a saved
 *       model directory;
 *   <li>{@link dev.jdetect.examples.CustomBackbone}: a user-defined backbone in SSD and Faster
 *       R-CNN;
 *   <li>{@link dev.jdetect.examples.ExplainFasterRcnn}: PNGs of each Faster R-CNN stage.
 * </ul>
 *
 * <p>The training mains share their options ({@code --out --input --epochs --batch --lr --seed
 * --resume}) and name models as {@code dev.jdetect.models.zoo.ModelZoo} does. Run one with {@code
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.Detect -Dexec.args="--help"}.
 */
package dev.jdetect.examples;
