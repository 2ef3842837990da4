package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.ImageTargets;
import java.util.ArrayList;
import java.util.List;

/**
 * What one pass of the {@link RegionProposalNetwork} reads: the feature maps and the geometry of
 * the batch they were computed from.
 *
 * @param features one {@code (N, C, H_l, W_l)} map per level
 * @param imageSizes {@code {h, w}} of every image after resizing (the clip bounds)
 * @param resizeScales resized / original height of every image, or {@code null} where unknown
 * @param paddedHeight height of the padded batch (anchor strides are derived from it)
 * @param paddedWidth width of the padded batch
 */
record RpnInputs(
    NDList features,
    List<int[]> imageSizes,
    float[] resizeScales,
    int paddedHeight,
    int paddedWidth) {

  /** The inputs for features computed from a transformed batch. */
  static RpnInputs of(NDList features, ImageBatch batch) {
    float[] scales = new float[batch.size()];
    for (int i = 0; i < scales.length; i++) {
      scales[i] = (float) batch.imageSizes().get(i)[0] / batch.originalSizes().get(i)[0];
    }
    return new RpnInputs(
        features, batch.imageSizes(), scales, batch.paddedHeight(), batch.paddedWidth());
  }

  /**
   * Reads the block's plain {@code forward} input: the feature maps followed by an int {@code (N,
   * 2)} array of image sizes and an int {@code (2)} array with the padded batch size.
   */
  static RpnInputs ofBlockInputs(NDList inputs) {
    if (inputs.size() < 3) {
      throw new IllegalArgumentException(
          "inputs must be the feature maps, image sizes (N,2) and padded size (2); got "
              + inputs.size()
              + " arrays");
    }
    int levels = inputs.size() - 2;
    long[] sizes = inputs.get(levels).toType(DataType.INT64, false).toLongArray();
    long[] padded = inputs.get(levels + 1).toType(DataType.INT64, false).toLongArray();
    List<int[]> imageSizes = new ArrayList<>();
    for (int i = 0; i + 1 < sizes.length; i += 2) {
      imageSizes.add(new int[] {(int) sizes[i], (int) sizes[i + 1]});
    }
    return new RpnInputs(
        inputs.subNDList(0, levels), imageSizes, null, (int) padded[0], (int) padded[1]);
  }

  /** The feature map shapes, level by level. */
  List<Shape> featureShapes() {
    List<Shape> shapes = new ArrayList<>(features.size());
    features.forEach(f -> shapes.add(f.getShape()));
    return shapes;
  }

  /**
   * Checks the inputs against the anchor levels and, in training, the targets.
   *
   * @return the number of images
   */
  int check(int levels, boolean training, List<ImageTargets> targets) {
    if (features.size() != levels) {
      throw new IllegalArgumentException(
          "features: got " + features.size() + " levels but the anchor generator has " + levels);
    }
    int numImages = (int) features.get(0).getShape().get(0);
    if (imageSizes.size() != numImages) {
      throw new IllegalArgumentException(
          "imageSizes has " + imageSizes.size() + " entries for a batch of " + numImages);
    }
    if (training && (targets == null || targets.size() != numImages)) {
      throw new IllegalArgumentException(
          "training needs one target per image, got "
              + (targets == null ? "none" : targets.size() + " for " + numImages + " images"));
    }
    return numImages;
  }
}
