package dev.jdetect.models.ssd;

import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.backbone.MobileNetV2;
import java.util.ArrayList;
import java.util.List;

/**
 * Factories for SSDlite (MobileNetV2 paper, section 6.2) on MobileNetV2 or V3, with the head and
 * settings of torchvision's {@code ssdlite320_mobilenet_v3_large}: 320x320 input scaled to {@code
 * [-1, 1]} (mean 0.5, std 0.5), {@link SsdLiteFeatureExtractor} (6 sources), {@link SsdLiteHead},
 * default boxes with ratios {@code [2, 3]} at every source (6 per location) and scales from 0.2 to
 * 0.95, batch norm eps 0.001 / momentum 0.03 everywhere, the SSD MultiBox loss, and post-processing
 * with score threshold 0.001, NMS 0.55, top-k 300, 300 detections.
 */
public final class SsdLite {

  private SsdLite() {}

  /**
   * Returns torchvision SSDlite's default-box generator for {@code sources} sources.
   *
   * @param sources the number of feature sources
   * @return ratios {@code [2, 3]} everywhere, min ratio 0.2, max ratio 0.95
   */
  public static DefaultBoxGenerator anchorGenerator(int sources) {
    List<float[]> ratios = new ArrayList<>();
    for (int i = 0; i < sources; i++) {
      ratios.add(new float[] {2f, 3f});
    }
    return DefaultBoxGenerator.builder()
        .setAspectRatios(ratios)
        .optMinRatio(0.2)
        .optMaxRatio(0.95)
        .build();
  }

  /**
   * Creates SSDlite320 on a full-width MobileNetV2.
   *
   * @param numClasses object classes, background excluded
   * @return the model (not initialised)
   */
  public static Ssd mobileNetV2(int numClasses) {
    MobileNetV2 net = MobileNetV2.builder().optBatchNorm(0.001f, 0.03f).build();
    return mobileNetV2(
        numClasses, SsdLiteFeatureExtractor.builder().setMobileNet(net).build(), 320);
  }

  /**
   * Creates SSDlite on a given extractor (e.g. a narrower MobileNetV2).
   *
   * @param numClasses object classes, background excluded
   * @param extractor the feature extractor
   * @param size the square input size
   * @return the model (not initialised)
   */
  public static Ssd mobileNetV2(int numClasses, SsdLiteFeatureExtractor extractor, int size) {
    return withExtractor(numClasses, extractor, size);
  }

  /**
   * Creates SSDlite on any extractor, MobileNetV2 or MobileNetV3 (torchvision's {@code
   * ssdlite320_mobilenet_v3_large} is {@code TorchvisionDetectors.ssdLite320MobileNetV3Large}).
   *
   * @param numClasses object classes, background excluded
   * @param extractor the feature extractor
   * @param size the square input size
   * @return the model (not initialised)
   */
  public static Ssd withExtractor(int numClasses, SsdLiteFeatureExtractor extractor, int size) {
    DefaultBoxGenerator priors = anchorGenerator(extractor.numSources());
    return Ssd.builder()
        .setBackbone(extractor)
        .setNumClasses(numClasses)
        .setAnchorGenerator(priors)
        .optHead(
            SsdLiteHead.create(
                extractor.outChannels(), priors.numAnchorsPerLocation(), numClasses + 1))
        .setTransform(
            FixedSizeTransform.builder()
                .setSize(size, size)
                .optNormalization(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f})
                .build())
        .optPostProcessor(
            SsdPostProcessor.builder()
                .optScoreThreshold(0.001f)
                .optNmsThreshold(0.55f)
                .optTopK(300)
                .optDetectionsPerImage(300)
                .build())
        .build();
  }
}
