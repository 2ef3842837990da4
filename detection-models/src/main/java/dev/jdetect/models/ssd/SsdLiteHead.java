package dev.jdetect.models.ssd;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.initializer.NormalInitializer;
import dev.jdetect.models.backbone.ConvBlocks;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's {@code SSDLiteHead}: per source and branch a depthwise-separable predictor, a 3x3
 * depthwise {@code Conv2dNormActivation} (BN, ReLU6) at position 0 and a 1x1 convolution with bias
 * to {@code anchors * K} channels at position 1, assembled into an {@link SsdHead} (names {@code
 * classification_head.module_list.i.0.0.weight}, {@code ...i.1.bias}). Convolution weights start
 * from N(0, 0.03) as in torchvision.
 */
public final class SsdLiteHead {

  private SsdLiteHead() {}

  /**
   * Creates the head with torchvision SSDlite's batch norm (eps 0.001, momentum 0.03).
   *
   * @param inChannels channels of each source
   * @param anchorsPerLocation default boxes per location of each source
   * @param numClassesWithBackground classes including background
   * @return the head
   */
  public static SsdHead create(
      int[] inChannels, int[] anchorsPerLocation, int numClassesWithBackground) {
    return create(inChannels, anchorsPerLocation, numClassesWithBackground, 0.001f, 0.03f);
  }

  /**
   * Creates the head.
   *
   * @param inChannels channels of each source
   * @param anchorsPerLocation default boxes per location of each source
   * @param numClassesWithBackground classes including background
   * @param bnEps the batch-norm epsilon
   * @param bnTorchMomentum the batch-norm momentum as torchvision counts it
   * @return the head
   * @throws IllegalArgumentException if the arrays differ in length or hold non-positive values
   */
  public static SsdHead create(
      int[] inChannels,
      int[] anchorsPerLocation,
      int numClassesWithBackground,
      float bnEps,
      float bnTorchMomentum) {
    if (inChannels.length != anchorsPerLocation.length || inChannels.length == 0) {
      throw new IllegalArgumentException(
          "inChannels ("
              + inChannels.length
              + ") and anchorsPerLocation ("
              + anchorsPerLocation.length
              + ") must have the same, non-zero length");
    }
    if (numClassesWithBackground < 2) {
      throw new IllegalArgumentException(
          "numClassesWithBackground must be >= 2, got " + numClassesWithBackground);
    }
    List<Block> cls = new ArrayList<>();
    List<Block> reg = new ArrayList<>();
    for (int i = 0; i < inChannels.length; i++) {
      if (inChannels[i] <= 0 || anchorsPerLocation[i] <= 0) {
        throw new IllegalArgumentException(
            "source "
                + i
                + ": channels and anchors must be > 0, got "
                + inChannels[i]
                + ", "
                + anchorsPerLocation[i]);
      }
      cls.add(
          predictor(
              inChannels[i],
              anchorsPerLocation[i] * numClassesWithBackground,
              bnEps,
              bnTorchMomentum));
      reg.add(predictor(inChannels[i], anchorsPerLocation[i] * 4, bnEps, bnTorchMomentum));
    }
    return new SsdHead(new ScoringHead(cls, numClassesWithBackground), new ScoringHead(reg, 4));
  }

  private static Block predictor(int in, int out, float eps, float momentum) {
    SequentialBlock blk = new SequentialBlock();
    blk.add(ConvBlocks.convNormActivation(in, 3, 1, in, ConvBlocks.Act.RELU6, eps, momentum));
    blk.add(ConvBlocks.conv(out, 1, 1, 0, 1, true));
    blk.setInitializer(new NormalInitializer(0.03f), Parameter.Type.WEIGHT);
    return blk;
  }
}
