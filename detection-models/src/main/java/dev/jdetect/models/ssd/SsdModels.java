package dev.jdetect.models.ssd;

import dev.jdetect.core.anchor.DefaultBoxGenerator;
import java.util.List;

/**
 * Factories for the VGG16 SSD models with torchvision's configuration. Both take RGB images in
 * {@code [0, 1]} of any size (resized to the model size) and normalise them as torchvision's {@code
 * ssd300_vgg16} does: mean {@code (0.48235, 0.45882, 0.40784)}, std {@code 1/255}.
 *
 * <p>{@code numClasses} counts object classes without background: torchvision's COCO model has
 * {@code num_classes=91} including background, i.e. {@code ssd300Vgg16(90)}.
 */
public final class SsdModels {

  private static final float[] VGG_MEAN = {0.48235f, 0.45882f, 0.40784f};
  private static final float[] VGG_STD = {1f / 255f, 1f / 255f, 1f / 255f};

  private SsdModels() {}

  /**
   * Creates SSD300 on VGG16 (torchvision's {@code ssd300_vgg16}): 300x300 input, 6 sources, aspect
   * ratios {@code [[2], [2, 3], [2, 3], [2, 3], [2], [2]]}, scales {@code 0.07 .. 1.05}, steps
   * {@code 8, 16, 32, 64, 100, 300}: 8732 default boxes. With 90 classes it has torchvision's
   * 35,641,826 parameters.
   *
   * @param numClasses object classes, background excluded
   * @return the model (not initialised)
   */
  public static Ssd ssd300Vgg16(int numClasses) {
    return Ssd.builder()
        .setBackbone(VggFeatureExtractor.ssd300())
        .setNumClasses(numClasses)
        .setAnchorGenerator(DefaultBoxGenerator.ssd300())
        .setTransform(vggTransform(300))
        .build();
  }

  /**
   * Creates SSD512 on VGG16 with the original paper's configuration: 512x512 input, 7 sources (64,
   * 32, 16, 8, 4, 2, 1), aspect ratios {@code [[2], [2, 3], [2, 3], [2, 3], [2, 3], [2], [2]]},
   * scales {@code 0.07, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05}, steps {@code 8 .. 512}: 24564
   * default boxes. torchvision ships no SSD512; the extractor follows its SSD300 naming.
   *
   * @param numClasses object classes, background excluded
   * @return the model (not initialised)
   */
  public static Ssd ssd512Vgg16(int numClasses) {
    DefaultBoxGenerator priors =
        DefaultBoxGenerator.builder()
            .setAspectRatios(
                List.of(
                    new float[] {2},
                    new float[] {2, 3},
                    new float[] {2, 3},
                    new float[] {2, 3},
                    new float[] {2, 3},
                    new float[] {2},
                    new float[] {2}))
            .optScales(0.07, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05)
            .optSteps(8, 16, 32, 64, 128, 256, 512)
            .build();
    return Ssd.builder()
        .setBackbone(VggFeatureExtractor.ssd512())
        .setNumClasses(numClasses)
        .setAnchorGenerator(priors)
        .setTransform(vggTransform(512))
        .build();
  }

  /**
   * Returns the input transform of the VGG16 SSD models at a square size.
   *
   * @param size the side in pixels
   * @return the transform
   */
  public static FixedSizeTransform vggTransform(int size) {
    return FixedSizeTransform.builder()
        .setSize(size, size)
        .optNormalization(VGG_MEAN, VGG_STD)
        .build();
  }
}
