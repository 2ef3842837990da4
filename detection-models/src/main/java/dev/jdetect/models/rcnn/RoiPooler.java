package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Pools a fixed-size feature patch for every region of interest: the box feature extractor of the
 * {@link RoiHeads} (torchvision's {@code box_roi_pool}). Implementations wrap the RoI operators of
 * {@code dev.jdetect.core.roi}; see {@link RoiPoolers}.
 */
public interface RoiPooler {

  /**
   * Pools the features of the boxes of every image.
   *
   * @param features one {@code (N, C, H_l, W_l)} map per level
   * @param boxesPerImage one {@code (K_i, 4)} array of boxes per image, in resized-image pixels
   * @param imageSizes {@code {h, w}} of every image after resizing
   * @return {@code (sum K_i, C, outH, outW)}, rows in image order; differentiable in the features
   */
  NDArray pool(List<NDArray> features, List<NDArray> boxesPerImage, List<int[]> imageSizes);

  /**
   * Returns the spatial size of a pooled patch.
   *
   * @return {@code {outH, outW}}
   */
  int[] outputSize();
}
