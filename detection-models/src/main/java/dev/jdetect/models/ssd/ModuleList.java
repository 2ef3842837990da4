package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An indexed list of blocks, the counterpart of PyTorch's {@code nn.ModuleList}: children are named
 * {@code 0, 1, ...} so torchvision state-dict names such as {@code module_list.3.weight} map onto
 * them.
 *
 * <p>As a block it applies child {@code i} to input {@code i} (one input per child, each child
 * returning one array), which is what per-source detection heads need; an owner may also call the
 * children itself in any order via {@link #get(int)}. {@link #initialize} takes one input shape per
 * child.
 */
public class ModuleList extends AbstractBlock {

  private final List<Block> blocks;

  /**
   * Creates the list.
   *
   * @param blocks the children, in index order
   * @throws IllegalArgumentException if the list is empty
   */
  public ModuleList(List<? extends Block> blocks) {
    if (blocks == null || blocks.isEmpty()) {
      throw new IllegalArgumentException("blocks must hold at least one block");
    }
    List<Block> list = new ArrayList<>(blocks.size());
    for (int i = 0; i < blocks.size(); i++) {
      list.add(addChildBlock(Integer.toString(i), blocks.get(i)));
    }
    this.blocks = Collections.unmodifiableList(list);
  }

  /**
   * Returns child {@code i}.
   *
   * @param i the index
   * @return the block
   */
  public Block get(int i) {
    return blocks.get(i);
  }

  /**
   * Returns the number of children.
   *
   * @return the size
   */
  public int size() {
    return blocks.size();
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    checkCount(inputs.size(), "inputs");
    NDList out = new NDList(blocks.size());
    for (int i = 0; i < blocks.size(); i++) {
      out.add(
          blocks
              .get(i)
              .forward(parameterStore, new NDList(inputs.get(i)), training, params)
              .get(0));
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    checkCount(inputShapes.length, "input shapes");
    Shape[] out = new Shape[blocks.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = blocks.get(i).getOutputShapes(new Shape[] {inputShapes[i]})[0];
    }
    return out;
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    checkCount(inputShapes.length, "input shapes");
    for (int i = 0; i < blocks.size(); i++) {
      blocks.get(i).initialize(manager, dataType, inputShapes[i]);
    }
  }

  private void checkCount(int n, String what) {
    if (n != blocks.size()) {
      throw new IllegalArgumentException(
          "ModuleList of "
              + blocks.size()
              + " blocks needs one of "
              + what
              + " per block, got "
              + n);
    }
  }
}
