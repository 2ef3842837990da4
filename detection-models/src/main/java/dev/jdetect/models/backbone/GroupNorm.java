package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Arrays;

/**
 * PyTorch's {@code nn.GroupNorm} for {@code (N, C, ...)} inputs: the channels are split into {@code
 * numGroups} groups, each group of each sample is normalised by its own mean and biased variance
 * ({@code (x - mean) / sqrt(var + eps)}), then scaled and shifted per channel. Unlike a batch norm
 * it keeps no running statistics and behaves the same in training and inference.
 *
 * <p>Its parameters are named {@code weight} (initialised to 1) and {@code bias} (0), as PyTorch's.
 */
public final class GroupNorm extends AbstractBlock {

  private static final byte VERSION = 1;

  private final int numGroups;
  private final float eps;
  private final Parameter weight;
  private final Parameter bias;
  private long channels = -1;

  /**
   * Creates a group norm with PyTorch's epsilon 1e-5.
   *
   * @param numGroups the number of groups; it must divide the channel count
   * @throws IllegalArgumentException if {@code numGroups < 1}
   */
  public GroupNorm(int numGroups) {
    this(numGroups, 1e-5f);
  }

  /**
   * Creates a group norm.
   *
   * @param numGroups the number of groups; it must divide the channel count
   * @param eps the epsilon added to the variance
   * @throws IllegalArgumentException if {@code numGroups < 1} or {@code eps} is negative
   */
  public GroupNorm(int numGroups, float eps) {
    super(VERSION);
    if (numGroups < 1 || !(eps >= 0)) {
      throw new IllegalArgumentException(
          "numGroups must be >= 1 and eps >= 0, got numGroups=" + numGroups + ", eps=" + eps);
    }
    this.numGroups = numGroups;
    this.eps = eps;
    this.weight =
        addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.GAMMA).build());
    this.bias =
        addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BETA).build());
  }

  /**
   * Returns the number of groups.
   *
   * @return the groups
   */
  public int numGroups() {
    return numGroups;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    Shape shape = x.getShape();
    long c = shape.get(1);
    if (c % numGroups != 0) {
      throw new IllegalArgumentException(
          "GroupNorm: " + numGroups + " groups do not divide " + c + " channels of " + shape);
    }
    NDArray w = parameterStore.getValue(weight, x.getDevice(), training);
    NDArray b = parameterStore.getValue(bias, x.getDevice(), training);
    NDArray grouped = x.reshape(shape.get(0), numGroups, -1);
    NDArray mean = grouped.mean(new int[] {2}, true);
    NDArray centred = grouped.sub(mean);
    NDArray variance = centred.square().mean(new int[] {2}, true);
    NDArray normalised = centred.div(variance.add(eps).sqrt()).reshape(shape);
    long[] perChannel = new long[shape.dimension()];
    Arrays.fill(perChannel, 1);
    perChannel[1] = c;
    Shape channelShape = new Shape(perChannel);
    return new NDList(normalised.mul(w.reshape(channelShape)).add(b.reshape(channelShape)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void beforeInitialize(Shape... inputShapes) {
    super.beforeInitialize(inputShapes);
    channels = inputShapes[0].get(1);
    if (channels % numGroups != 0) {
      throw new IllegalArgumentException(
          "GroupNorm: " + numGroups + " groups do not divide " + channels + " channels");
    }
  }

  @Override
  public void prepare(Shape[] inputShapes) {
    weight.setShape(new Shape(channels));
    bias.setShape(new Shape(channels));
  }
}
