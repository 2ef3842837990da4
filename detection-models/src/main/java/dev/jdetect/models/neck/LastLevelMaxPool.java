package dev.jdetect.models.neck;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;

/**
 * torchvision's {@code LastLevelMaxPool}: one extra level, {@code max_pool2d(kernel 1, stride 2)}
 * of the coarsest pyramid output (every other cell of it). Faster R-CNN's FPN uses it as level
 * {@code "pool"}.
 */
public final class LastLevelMaxPool extends ExtraFpnBlock {

  @Override
  public int extraLevels() {
    return 1;
  }

  @Override
  public NDList extraLevels(
      ParameterStore parameterStore, NDList pyramid, NDList inputs, boolean training) {
    return new NDList(
        Pool.maxPool2d(
            pyramid.get(pyramid.size() - 1),
            new Shape(1, 1),
            new Shape(2, 2),
            new Shape(0, 0),
            false));
  }

  @Override
  public Shape[] extraShapes(Shape[] pyramid, Shape[] inputs) {
    Shape last = pyramid[pyramid.length - 1];
    return new Shape[] {
      new Shape(last.get(0), last.get(1), (last.get(2) + 1) / 2, (last.get(3) + 1) / 2)
    };
  }

  @Override
  public void initializeExtra(
      NDManager manager, DataType dataType, Shape[] pyramid, Shape[] inputs) {
    // no parameters
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    // no parameters
  }
}
