package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.function.Supplier;

/**
 * torchvision's MobileNetV3 {@code InvertedResidual}: one child {@code block}, a sequential of an
 * optional 1x1 expansion, a depthwise {@code k x k} convolution carrying the stride (or, dilated,
 * the dilation), an optional {@link SqueezeExcitation}, and a 1x1 projection without activation;
 * each convolution is followed by its norm, the first two by ReLU or hardswish. The input is added
 * back when the stride is 1 and the channel count stays.
 */
public final class MobileNetV3Block extends AbstractBlock {

  private final SequentialBlock block;
  private final boolean residual;
  private final int stride;

  /**
   * Creates the block for one stage of {@link MobileNetV3}'s table.
   *
   * @param stage the stage settings
   * @param norm makes the norm that follows each convolution
   */
  public MobileNetV3Block(MobileNetV3.Stage stage, Supplier<Block> norm) {
    this.residual = stage.stride() == 1 && stage.inChannels() == stage.outChannels();
    this.stride = stage.stride();
    int expanded = stage.expandedChannels();
    SequentialBlock seq = new SequentialBlock();
    if (expanded != stage.inChannels()) {
      seq.add(MobileNetV3.convNormAct(expanded, 1, 1, 1, 1, norm, stage.hardSwish()));
    }
    int stride = stage.dilation() > 1 ? 1 : stage.stride();
    seq.add(
        MobileNetV3.convNormAct(
            expanded, stage.kernel(), stride, stage.dilation(), expanded, norm, stage.hardSwish()));
    if (stage.squeezeExcite()) {
      seq.add(new SqueezeExcitation(expanded, MobileNetV3.makeDivisible(expanded / 4)));
    }
    seq.add(MobileNetV3.convNormAct(stage.outChannels(), 1, 1, 1, 1, norm, null));
    this.block = addChildBlock("block", seq);
  }

  /**
   * Returns the layers in torchvision's order ({@code block.0} ...): the expansion, if any, first.
   *
   * @return the sequential child {@code block}
   */
  public SequentialBlock getBlock() {
    return block;
  }

  /**
   * Returns the stride of the stage's table row (2 also when the block is dilated instead).
   *
   * @return 1 or 2
   */
  public int getStride() {
    return stride;
  }

  /**
   * Returns whether the input is added to the output.
   *
   * @return true for stride 1 with unchanged channels
   */
  public boolean usesResidual() {
    return residual;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList out = block.forward(parameterStore, inputs, training, params);
    if (!residual) {
      return out;
    }
    NDArray y = out.singletonOrThrow();
    NDArray sum = y.add(inputs.singletonOrThrow());
    y.close();
    return new NDList(sum);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return block.getOutputShapes(inputShapes);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    block.initialize(manager, dataType, inputShapes);
  }
}
