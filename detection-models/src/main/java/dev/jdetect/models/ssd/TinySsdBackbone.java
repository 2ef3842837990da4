package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.backbone.SequentialForward;
import java.util.Arrays;

/**
 * The feature extractor of Dive into Deep Learning's TinySSD: five sources {@code blk_0..blk_4}.
 * {@code blk_0} is the base net, one down-sampling block per base channel count (D2L: 16, 32, 64);
 * {@code blk_1..blk_3} are down-sampling blocks of {@code channels} (D2L: 128); {@code blk_4} is a
 * global max pool. Input: images {@code (N, 3, H, W)} as given.
 */
public final class TinySsdBackbone extends AbstractBlock implements Backbone {

  private static final int NUM_SOURCES = 5;

  private final Block[] blocks = new Block[NUM_SOURCES];
  private final int[] outChannels;
  private final int[] strides;

  /**
   * Creates the extractor.
   *
   * @param baseChannels the output channels of the base net's blocks, at least one
   * @param channels the output channels of {@code blk_1..blk_3}
   * @throws IllegalArgumentException if a channel count is not positive
   */
  public TinySsdBackbone(int[] baseChannels, int channels) {
    if (baseChannels == null
        || baseChannels.length == 0
        || channels < 1
        || Arrays.stream(baseChannels).anyMatch(c -> c < 1)) {
      throw new IllegalArgumentException(
          "baseChannels must be positive channel counts and channels >= 1, got "
              + Arrays.toString(baseChannels)
              + ", "
              + channels);
    }
    SequentialBlock base = new SequentialBlock();
    for (int c : baseChannels) {
      base.add(downSampleBlock(c));
    }
    outChannels = new int[NUM_SOURCES];
    strides = new int[NUM_SOURCES];
    outChannels[0] = baseChannels[baseChannels.length - 1];
    strides[0] = 1 << baseChannels.length;
    for (int i = 0; i < NUM_SOURCES; i++) {
      Block blk;
      if (i == 0) {
        blk = base;
      } else if (i == NUM_SOURCES - 1) {
        blk = LambdaBlock.singleton(TinySsdBackbone::globalMaxPool, "globalMaxPool");
      } else {
        blk = downSampleBlock(channels);
      }
      if (i > 0) {
        outChannels[i] = channels;
        // the global pool's nominal stride continues the doubling
        strides[i] = 2 * strides[i - 1];
      }
      blocks[i] = addChildBlock("blk_" + i, blk);
    }
  }

  /**
   * D2L's {@code down_sample_blk}: (3x3 conv, BN, ReLU) twice, then a 2x2 max pool.
   *
   * @param channels the output channels
   * @return the block, torchvision-indexed (convs at 0 and 3, norms at 1 and 4, pool at 6)
   */
  public static SequentialBlock downSampleBlock(int channels) {
    SequentialBlock blk = new SequentialBlock();
    for (int k = 0; k < 2; k++) {
      blk.add(ConvBlocks.conv(channels, 3, 1, 1, 1, true));
      blk.add(ConvBlocks.batchNorm(1e-5f, 0.1f));
      blk.add(Activation.reluBlock());
    }
    blk.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
    return blk;
  }

  private static NDArray globalMaxPool(NDArray x) {
    NDArray rows = x.max(new int[] {3}, true);
    NDArray out = rows.max(new int[] {2}, true);
    rows.close(); // autograd keeps what it needs
    return out;
  }

  @Override
  public int[] outChannels() {
    return outChannels.clone();
  }

  @Override
  public int[] strides() {
    return strides.clone();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList out = new NDList(NUM_SOURCES);
    NDList x = inputs;
    for (Block b : blocks) {
      // each block's output is a source, kept; inside a block, intermediates go at once
      x = SequentialForward.run(b, ps, x, training, params);
      out.add(x.head());
    }
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[NUM_SOURCES];
    Shape[] s = inputShapes;
    for (int i = 0; i < NUM_SOURCES; i++) {
      s = blocks[i].getOutputShapes(s);
      out[i] = s[0];
    }
    return out;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] s = inputShapes;
    for (Block b : blocks) {
      b.initialize(manager, dataType, s);
      s = b.getOutputShapes(s);
    }
  }
}
