package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.backbone.Bottleneck;

/**
 * The box head of the ResNet C4 Faster R-CNN: ResNet-50's {@code layer4} (three bottlenecks, the
 * first at stride 2) run on every pooled RoI (typically 14x14 from the 1024-channel C4 map),
 * followed by global average pooling to a 2048-vector.
 *
 * <p>The child is named {@code layer4}, so an ImageNet ResNet-50 {@code state_dict}'s {@code
 * layer4.*} tensors import into it (with a source prefix mapping).
 *
 * <p>Forward: {@code (K, 1024, h, w)} in, {@code (K, 2048)} out.
 */
public final class Res5Head extends AbstractBlock {

  private static final byte VERSION = 1;

  private final SequentialBlock layer4;

  /**
   * Creates the head.
   *
   * @param frozenBatchNorm whether the bottlenecks use frozen batch norm (as torchvision's
   *     detection backbones do)
   */
  public Res5Head(boolean frozenBatchNorm) {
    super(VERSION);
    SequentialBlock layer = new SequentialBlock();
    layer.add(new Bottleneck(512, 2, true, frozenBatchNorm));
    layer.add(new Bottleneck(512, 1, false, frozenBatchNorm));
    layer.add(new Bottleneck(512, 1, false, frozenBatchNorm));
    this.layer4 = addChildBlock("layer4", layer);
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    if (x.getShape().dimension() != 4) {
      throw new IllegalArgumentException(
          "pooled features must be (K, C, h, w), got " + x.getShape());
    }
    NDArray y = layer4.forward(parameterStore, new NDList(x), training).singletonOrThrow();
    // one axis at a time (multi-axis reductions are not supported by every engine)
    return new NDList(y.mean(new int[] {3}).mean(new int[] {2}));
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), 2048)};
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    layer4.initialize(manager, dataType, inputShapes);
  }
}
