package dev.jdetect.core.anchor;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * The anchors of a multi-scale detector built from one {@link MultiBoxPrior} per feature map, as
 * Dive into Deep Learning's TinySSD makes them: each level's relative boxes, concatenated in level
 * order and scaled to the input size. Instances are immutable and thread-safe.
 */
public final class MultiBoxPriors implements AnchorSource {

  private final List<MultiBoxPrior> levels;

  /**
   * Creates the source from one prior per level.
   *
   * @param levels the priors, in feature-map order
   * @throws IllegalArgumentException if the list is empty
   */
  public MultiBoxPriors(List<MultiBoxPrior> levels) {
    if (levels == null || levels.isEmpty()) {
      throw new IllegalArgumentException("levels must hold at least one MultiBoxPrior");
    }
    this.levels = List.copyOf(levels);
  }

  /**
   * Creates one prior per row of {@code sizes}, all with the same ratios.
   *
   * @param sizes relative sizes, one array per level
   * @param ratios width/height ratios shared by all levels
   * @return the source
   * @throws IllegalArgumentException if a level has no sizes or there are no ratios
   */
  public static MultiBoxPriors of(float[][] sizes, float[] ratios) {
    MultiBoxPrior[] levels = new MultiBoxPrior[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      levels[i] = MultiBoxPrior.builder().setSizes(sizes[i]).setRatios(ratios).build();
    }
    return new MultiBoxPriors(List.of(levels));
  }

  /**
   * Returns the priors, one per level.
   *
   * @return an unmodifiable list
   */
  public List<MultiBoxPrior> levels() {
    return levels;
  }

  @Override
  public int[] numAnchorsPerLocation() {
    int[] out = new int[levels.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = levels.get(i).numAnchorsPerLocation();
    }
    return out;
  }

  /**
   * Generates the anchors in coordinates relative to the input size ({@code [0, 1]} inside it).
   *
   * @param manager the manager (and device) of the result
   * @param featureShapes one shape per level; its last two axes are the grid {@code (H_k, W_k)}
   * @return float32 {@code (sum_k H_k * W_k * A_k, 4)} relative {@code (x1, y1, x2, y2)} boxes
   * @throws IllegalArgumentException if the number of shapes differs from the number of levels
   */
  public NDArray generateRelative(NDManager manager, List<Shape> featureShapes) {
    if (featureShapes.size() != levels.size()) {
      throw new IllegalArgumentException(
          "got " + featureShapes.size() + " feature maps for " + levels.size() + " levels");
    }
    NDList parts = new NDList(levels.size());
    for (int i = 0; i < levels.size(); i++) {
      Shape s = featureShapes.get(i);
      int d = s.dimension();
      parts.add(levels.get(i).generate(manager, (int) s.get(d - 2), (int) s.get(d - 1)));
    }
    return NDArrays.concat(parts, 0);
  }

  @Override
  public NDArray generate(
      NDManager manager, List<Shape> featureShapes, int imageHeight, int imageWidth) {
    if (imageHeight <= 0 || imageWidth <= 0) {
      throw new IllegalArgumentException(
          "image size must be positive, got " + imageHeight + "x" + imageWidth);
    }
    NDArray out;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDArray scale =
          manager.create(new float[] {imageWidth, imageHeight, imageWidth, imageHeight});
      out = generateRelative(manager, featureShapes).mul(scale);
      NDScope.unregister(out);
    }
    NDScope.register(out);
    return out;
  }

  @Override
  public String toString() {
    return "MultiBoxPriors" + levels;
  }
}
