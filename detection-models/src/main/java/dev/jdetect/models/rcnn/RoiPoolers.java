package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import dev.jdetect.core.roi.MultiScaleRoiAlign;
import dev.jdetect.core.roi.RoiAlign;
import dev.jdetect.core.roi.RoiPool;
import java.util.List;

/** Ready-made {@link RoiPooler}s over the RoI operators of {@code dev.jdetect.core.roi}. */
public final class RoiPoolers {

  private RoiPoolers() {}

  /**
   * torchvision's default box pooler: {@code MultiScaleRoIAlign} with the given output size and
   * sampling ratio over all levels (levels assigned by box size, scales inferred from the feature
   * and image sizes).
   *
   * @param outputSize side of the pooled patch (7)
   * @param samplingRatio sampling points per bin side (2)
   * @return the pooler
   */
  public static RoiPooler multiScaleRoiAlign(int outputSize, int samplingRatio) {
    return multiScaleRoiAlign(outputSize, samplingRatio, Integer.MAX_VALUE);
  }

  /**
   * torchvision's box pooler behind an FPN: {@code MultiScaleRoIAlign} over the pyramid's own
   * levels only ({@code featmap_names} '0' to '3'), leaving out the extra levels that only the RPN
   * reads (the max-pooled {@code "pool"} level).
   *
   * @param outputSize side of the pooled patch (7)
   * @param samplingRatio sampling points per bin side (2)
   * @param levels how many of the finest feature maps to pool from
   * @return the pooler
   */
  public static RoiPooler multiScaleRoiAlign(int outputSize, int samplingRatio, int levels) {
    if (levels < 1) {
      throw new IllegalArgumentException("levels must be >= 1, got " + levels);
    }
    MultiScaleRoiAlign align =
        MultiScaleRoiAlign.builder()
            .optOutputSize(outputSize, outputSize)
            .optSamplingRatio(samplingRatio)
            .build();
    return new Pooler(outputSize, outputSize) {
      @Override
      public NDArray pool(
          List<NDArray> features, List<NDArray> boxesPerImage, List<int[]> imageSizes) {
        List<NDArray> used = features.subList(0, Math.min(levels, features.size()));
        return align.apply(used, boxesPerImage, imageSizes);
      }
    };
  }

  /**
   * Wraps a configured {@link MultiScaleRoiAlign}.
   *
   * @param align the operator
   * @param outputHeight its output height
   * @param outputWidth its output width
   * @return the pooler
   */
  public static RoiPooler multiScaleRoiAlign(
      MultiScaleRoiAlign align, int outputHeight, int outputWidth) {
    return new Pooler(outputHeight, outputWidth) {
      @Override
      public NDArray pool(
          List<NDArray> features, List<NDArray> boxesPerImage, List<int[]> imageSizes) {
        return align.apply(features, boxesPerImage, imageSizes);
      }
    };
  }

  /**
   * The classic Fast R-CNN pooler: max RoIPool on the first feature map.
   *
   * @param outputSize side of the pooled patch (7 for VGG16)
   * @param spatialScale feature cells per input pixel (1/16 for VGG16 conv5_3)
   * @return the pooler
   */
  public static RoiPooler roiPool(int outputSize, float spatialScale) {
    RoiPool pool =
        RoiPool.builder()
            .optOutputSize(outputSize, outputSize)
            .optSpatialScale(spatialScale)
            .build();
    return new Pooler(outputSize, outputSize) {
      @Override
      public NDArray pool(
          List<NDArray> features, List<NDArray> boxesPerImage, List<int[]> imageSizes) {
        return pool.apply(features.get(0), boxesPerImage);
      }
    };
  }

  /**
   * RoIAlign on the first feature map with a fixed spatial scale (e.g. the 14x14 pooling of a
   * ResNet C4 head).
   *
   * @param outputSize side of the pooled patch
   * @param spatialScale feature cells per input pixel
   * @param samplingRatio sampling points per bin side
   * @return the pooler
   */
  public static RoiPooler roiAlign(int outputSize, float spatialScale, int samplingRatio) {
    RoiAlign align =
        RoiAlign.builder()
            .optOutputSize(outputSize, outputSize)
            .optSpatialScale(spatialScale)
            .optSamplingRatio(samplingRatio)
            .build();
    return new Pooler(outputSize, outputSize) {
      @Override
      public NDArray pool(
          List<NDArray> features, List<NDArray> boxesPerImage, List<int[]> imageSizes) {
        return align.apply(features.get(0), boxesPerImage);
      }
    };
  }

  private abstract static class Pooler implements RoiPooler {
    private final int height;
    private final int width;

    Pooler(int height, int width) {
      this.height = height;
      this.width = width;
    }

    @Override
    public int[] outputSize() {
      return new int[] {height, width};
    }
  }
}
