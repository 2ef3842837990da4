package dev.jdetect.models;

import ai.djl.nn.Block;

/**
 * A feature extractor that a detection model stands on.
 *
 * <p>A backbone is a DJL {@link Block} whose forward pass takes a batch of normalised images {@code
 * (N, 3, H, W)} and returns one feature map {@code (N, C_i, H_i, W_i)} per source, in a fixed
 * order. The detection heads are sized from {@link #outChannels()}; anchor and default-box
 * generators read the feature-map sizes at run time, and {@link #strides()} documents the nominal
 * sub-sampling of each source.
 *
 * <p>To plug in your own network, implement this interface on a block (usually by extending {@link
 * ai.djl.nn.AbstractBlock}) and hand it to a model builder:
 *
 * <pre>{@code
 * class TwoLevelBackbone extends AbstractBlock implements Backbone {
 *   private final Block stem = addChildBlock("stem", ...);  // stride 8, 64 channels
 *   private final Block deep = addChildBlock("deep", ...);  // stride 16, 128 channels
 *
 *   protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training,
 *       PairList<String, Object> params) {
 *     NDArray c3 = stem.forward(ps, in, training).singletonOrThrow();
 *     NDArray c4 = deep.forward(ps, new NDList(c3), training).singletonOrThrow();
 *     return new NDList(c3, c4);
 *   }
 *
 *   public int[] outChannels() { return new int[] {64, 128}; }
 *   public int[] strides() { return new int[] {8, 16}; }
 *   // getOutputShapes / initializeChildBlocks as for any DJL block
 * }
 * }</pre>
 */
public interface Backbone extends Block {

  /**
   * Returns the channel count of each feature source, in forward-output order.
   *
   * @return one channel count per source
   */
  int[] outChannels();

  /**
   * Returns the nominal stride (input pixels per feature cell) of each source, in forward-output
   * order.
   *
   * @return one stride per source
   */
  int[] strides();

  /**
   * Returns the number of feature sources this backbone produces.
   *
   * @return {@code outChannels().length}
   */
  default int numSources() {
    return outChannels().length;
  }
}
