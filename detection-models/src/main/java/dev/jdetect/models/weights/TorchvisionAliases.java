package dev.jdetect.models.weights;

import java.util.Map;

/**
 * Implemented by a block whose torchvision counterpart names some parameters differently from the
 * names {@link TorchvisionNames} derives from the block tree.
 *
 * <p>Example: torchvision's {@code SSDFeatureExtractorVGG} holds the L2-normalisation scale as its
 * own parameter {@code scale_weight}, while jdetect puts it in an {@code L2Norm} child; the
 * extractor declares {@code "l2norm.weight" -> "scale_weight"}.
 */
public interface TorchvisionAliases {

  /**
   * Returns renamings applied to the names derived below this block.
   *
   * @return map from the derived name to the torchvision name, both relative to this block (no
   *     leading prefix)
   */
  Map<String, String> torchvisionAliases();
}
