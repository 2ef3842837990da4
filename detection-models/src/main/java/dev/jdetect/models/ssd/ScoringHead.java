package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;

/**
 * One SSD prediction branch (torchvision's {@code SSDScoringHead}): a block per feature source
 * (child {@code module_list}) maps source {@code i}, {@code (N, C_i, H_i, W_i)}, to {@code (N, A_i
 * * K, H_i, W_i)}; the results are reordered to {@code (N, H_i * W_i * A_i, K)} (position major,
 * anchor minor, the order of the default boxes) and concatenated over sources into {@code (N, sum_i
 * H_i W_i A_i, K)}.
 *
 * <p>The per-source blocks are free: a 3x3 convolution for SSD, a depthwise-separable stack for
 * SSDlite, anything that keeps the spatial size and emits {@code A_i * K} channels.
 */
public class ScoringHead extends AbstractBlock {

  private final ModuleList moduleList;
  private final int numColumns;

  /**
   * Creates the branch.
   *
   * @param perSource one block per feature source, in source order
   * @param numColumns {@code K}, the values per default box (classes incl. background, or 4)
   * @throws IllegalArgumentException if the list is empty or {@code numColumns < 1}
   */
  public ScoringHead(List<? extends Block> perSource, int numColumns) {
    if (numColumns < 1) {
      throw new IllegalArgumentException("numColumns must be >= 1, got " + numColumns);
    }
    this.moduleList = addChildBlock("module_list", new ModuleList(perSource));
    this.numColumns = numColumns;
  }

  /**
   * Returns the number of values per default box.
   *
   * @return {@code K}
   */
  public int numColumns() {
    return numColumns;
  }

  /**
   * Returns the per-source blocks.
   *
   * @return the module list
   */
  public ModuleList moduleList() {
    return moduleList;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList raw = moduleList.forward(parameterStore, inputs, training, params);
    NDList flat = new NDList(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      NDArray r = raw.get(i);
      Shape s = r.getShape();
      long n = s.get(0);
      long h = s.get(2);
      long w = s.get(3);
      if (s.get(1) % numColumns != 0) {
        throw new IllegalStateException(
            "source "
                + i
                + " block emits "
                + s.get(1)
                + " channels, not a multiple of "
                + numColumns);
      }
      long a = s.get(1) / numColumns;
      flat.add(
          r.reshape(n, a, numColumns, h, w).transpose(0, 3, 4, 1, 2).reshape(n, -1, numColumns));
    }
    return new NDList(flat.size() == 1 ? flat.get(0) : NDArrays.concat(flat, 1));
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] raw = moduleList.getOutputShapes(inputShapes);
    long total = 0;
    for (Shape s : raw) {
      total += s.get(1) / numColumns * s.get(2) * s.get(3);
    }
    return new Shape[] {new Shape(inputShapes[0].get(0), total, numColumns)};
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    moduleList.initialize(manager, dataType, inputShapes);
  }
}
