package dev.jdetect.models.neck;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.backbone.ConvBlocks;

/**
 * torchvision's {@code LastLevelP6P7}: two extra levels for RetinaNet and FCOS, {@code p6 =
 * conv3x3/2(x)} and {@code p7 = conv3x3/2(relu(p6))}, children {@code p6} and {@code p7}. The
 * source {@code x} is the coarsest pyramid output P5 when the block's input channels equal its
 * output channels, and the coarsest backbone feature C5 otherwise — exactly torchvision's rule
 * ({@code use_P5 = in_channels == out_channels}): {@code retinanet_resnet50_fpn} and {@code
 * fcos_resnet50_fpn} build it as (256, 256) and so read P5, {@code retinanet_resnet50_fpn_v2} as
 * (2048, 256) and reads C5.
 */
public final class LastLevelP6P7 extends ExtraFpnBlock {

  private final Conv2d p6;
  private final Conv2d p7;
  private final boolean useP5;

  /**
   * Creates the block.
   *
   * @param inChannels channels of the source (256 for P5, 2048 for ResNet-50's C5)
   * @param outChannels channels of P6 and P7
   */
  public LastLevelP6P7(int inChannels, int outChannels) {
    if (inChannels <= 0 || outChannels <= 0) {
      throw new IllegalArgumentException(
          "channels must be > 0, got in=" + inChannels + " out=" + outChannels);
    }
    this.useP5 = inChannels == outChannels;
    this.p6 = addChildBlock("p6", conv(outChannels));
    this.p7 = addChildBlock("p7", conv(outChannels));
  }

  private static Conv2d conv(int outChannels) {
    Conv2d conv = ConvBlocks.conv(outChannels, 3, 2, 1, 1, true);
    conv.setInitializer(FeaturePyramidNetwork.KAIMING_UNIFORM_A1, Parameter.Type.WEIGHT);
    return conv;
  }

  /**
   * Returns whether P6 is computed from P5 (else from C5).
   *
   * @return {@code true} if the source is the coarsest pyramid output
   */
  public boolean usesP5() {
    return useP5;
  }

  @Override
  public int extraLevels() {
    return 2;
  }

  @Override
  public NDList extraLevels(
      ParameterStore parameterStore, NDList pyramid, NDList inputs, boolean training) {
    NDList source = useP5 ? pyramid : inputs;
    NDArray x = source.get(source.size() - 1);
    NDArray level6 = p6.forward(parameterStore, new NDList(x), training).singletonOrThrow();
    NDArray relu = Activation.relu(level6);
    NDArray level7 = p7.forward(parameterStore, new NDList(relu), training).singletonOrThrow();
    relu.close();
    return new NDList(level6, level7);
  }

  @Override
  public Shape[] extraShapes(Shape[] pyramid, Shape[] inputs) {
    Shape[] source = useP5 ? pyramid : inputs;
    Shape s6 = p6.getOutputShapes(new Shape[] {source[source.length - 1]})[0];
    Shape s7 = p7.getOutputShapes(new Shape[] {s6})[0];
    return new Shape[] {s6, s7};
  }

  @Override
  public void initializeExtra(
      NDManager manager, DataType dataType, Shape[] pyramid, Shape[] inputs) {
    Shape[] source = useP5 ? pyramid : inputs;
    initialize(manager, dataType, source[source.length - 1]);
  }

  /** Initialises P6 and P7 for a source of the last given shape (P5 or C5). */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape source = inputShapes[inputShapes.length - 1];
    p6.initialize(manager, dataType, source);
    p7.initialize(manager, dataType, p6.getOutputShapes(new Shape[] {source})[0]);
  }
}
