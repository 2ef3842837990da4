package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.util.PairList;

/**
 * The box head of Faster R-CNN: flatten the pooled RoI features, then two fully connected layers
 * with ReLU ({@code fc6}, {@code fc7}; torchvision's {@code TwoMLPHead}).
 *
 * <p>torchvision's default is 1024 units; the classic VGG16 head of the paper is 4096 units with
 * dropout 0.5 after each layer in training ({@link Builder#optDropout(float)}), both the same
 * class. Parameters start like PyTorch's {@code nn.Linear}: uniform in {@code +-1/sqrt(fan_in)}.
 *
 * <p>Forward: {@code (K, C, H, W)} (or {@code (K, D)}) in, {@code (K, units)} out.
 */
public final class TwoMlpHead extends AbstractBlock {

  private static final byte VERSION = 1;

  private final int units;
  private final float dropout;
  private final Linear fc6;
  private final Linear fc7;

  private TwoMlpHead(Builder builder) {
    super(VERSION);
    this.units = builder.units;
    this.dropout = builder.dropout;
    this.fc6 = addChildBlock("fc6", Linear.builder().setUnits(units).build());
    this.fc7 = addChildBlock("fc7", Linear.builder().setUnits(units).build());
  }

  /**
   * Returns a builder (1024 units, no dropout).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the width of both layers.
   *
   * @return units
   */
  public int getUnits() {
    return units;
  }

  /** {@inheritDoc} */
  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    if (x.getShape().dimension() < 2) {
      throw new IllegalArgumentException(
          "box features must be (K, C, H, W) or (K, D), got " + x.getShape());
    }
    x = x.reshape(x.getShape().get(0), -1);
    x = Activation.relu(fc6.forward(parameterStore, new NDList(x), training).singletonOrThrow());
    if (dropout > 0 && training) {
      x = Dropout.dropout(x, dropout, true).singletonOrThrow();
    }
    x = Activation.relu(fc7.forward(parameterStore, new NDList(x), training).singletonOrThrow());
    if (dropout > 0 && training) {
      x = Dropout.dropout(x, dropout, true).singletonOrThrow();
    }
    return new NDList(x);
  }

  /** {@inheritDoc} */
  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), units)};
  }

  /** {@inheritDoc} */
  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = inputShapes[0];
    long fanIn = in.size() / in.get(0);
    initLinear(fc6, fanIn);
    initLinear(fc7, units);
    fc6.initialize(manager, dataType, new Shape(in.get(0), fanIn));
    fc7.initialize(manager, dataType, new Shape(in.get(0), units));
  }

  static void initLinear(Linear linear, long fanIn) {
    float bound = (float) (1.0 / Math.sqrt(fanIn));
    linear.setInitializer(new UniformInitializer(bound), Parameter.Type.WEIGHT);
    linear.setInitializer(new UniformInitializer(bound), Parameter.Type.BIAS);
  }

  /** A builder of {@link TwoMlpHead}. */
  public static final class Builder {

    private int units = 1024;
    private float dropout;

    private Builder() {}

    /**
     * Sets the width of both layers.
     *
     * @param units units, default 1024 (4096 in the classic VGG16 head)
     * @return this builder
     */
    public Builder optUnits(int units) {
      this.units = units;
      return this;
    }

    /**
     * Sets the dropout rate applied after each layer in training.
     *
     * @param dropout rate in {@code [0, 1)}, default 0 (0.5 in the classic VGG16 head)
     * @return this builder
     */
    public Builder optDropout(float dropout) {
      this.dropout = dropout;
      return this;
    }

    /**
     * Builds the head.
     *
     * @return the head
     * @throws IllegalArgumentException on invalid settings
     */
    public TwoMlpHead build() {
      if (units < 1) {
        throw new IllegalArgumentException("units must be >= 1, got " + units);
      }
      if (!(dropout >= 0 && dropout < 1)) {
        throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
      }
      return new TwoMlpHead(this);
    }
  }
}
