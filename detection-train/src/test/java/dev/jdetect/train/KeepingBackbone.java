package dev.jdetect.train;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.Backbone;

/**
 * A test-only backbone: runs the blocks of another source-per-child backbone (such as {@code
 * TinySsdBackbone}) through their plain DJL {@code forward}, which keeps every intermediate open
 * until the caller's scope closes. The reference for the releasing forward.
 */
final class KeepingBackbone extends AbstractBlock implements Backbone {

  private final Backbone inner;

  KeepingBackbone(Backbone inner) {
    this.inner = addChildBlock("inner", inner);
  }

  @Override
  public int[] outChannels() {
    return inner.outChannels();
  }

  @Override
  public int[] strides() {
    return inner.strides();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList out = new NDList();
    NDList x = inputs;
    for (Block b : inner.getChildren().values()) {
      x = b.forward(ps, x, training, params);
      out.add(x.head());
    }
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inner.getOutputShapes(inputShapes);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    inner.initialize(manager, dataType, inputShapes);
  }
}
