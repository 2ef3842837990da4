package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * torchvision's {@code FrozenBatchNorm2d}: a batch norm whose affine parameters and statistics are
 * fixed, so it computes {@code x * w / sqrt(rv + eps) + (b - rm * w / sqrt(rv + eps))} in training
 * and inference alike and receives no gradient.
 *
 * <p>Its parameters carry torchvision's names ({@code weight}, {@code bias}, {@code running_mean},
 * {@code running_var}) so a torchvision {@code state_dict} maps onto it.
 *
 * <p>{@link FrozenBatchNormFolding} can fold it into the convolution before it for inference; it
 * then passes its input through outside training and autograd recording.
 */
public final class FrozenBatchNorm2d extends AbstractBlock {

  private float eps;
  private final Parameter weight;
  private final Parameter bias;
  private final Parameter runningMean;
  private final Parameter runningVar;
  private long channels;
  private volatile boolean folded;

  /** Creates a frozen batch norm with torchvision's epsilon 1e-5. */
  public FrozenBatchNorm2d() {
    this(1e-5f);
  }

  /**
   * Creates a frozen batch norm.
   *
   * @param eps the epsilon added to the running variance
   */
  public FrozenBatchNorm2d(float eps) {
    this.eps = eps;
    weight = addParameter(frozen("weight", Parameter.Type.GAMMA));
    bias = addParameter(frozen("bias", Parameter.Type.BETA));
    runningMean = addParameter(frozen("running_mean", Parameter.Type.RUNNING_MEAN));
    runningVar = addParameter(frozen("running_var", Parameter.Type.RUNNING_VAR));
  }

  /**
   * Sets the epsilon of every frozen batch norm under {@code root}, as torchvision's {@code
   * overwrite_eps} does for weights that were trained with another value (the v1 COCO Faster R-CNN
   * weights expect 0).
   *
   * @param root a block tree
   * @param eps the new epsilon
   * @return how many norms were changed
   */
  public static int overwriteEps(Block root, float eps) {
    int changed = 0;
    if (root instanceof FrozenBatchNorm2d) {
      ((FrozenBatchNorm2d) root).eps = eps;
      changed++;
    }
    for (Block child : root.getChildren().values()) {
      changed += overwriteEps(child, eps);
    }
    return changed;
  }

  /**
   * Returns the epsilon added to the running variance.
   *
   * @return the epsilon
   */
  public float eps() {
    return eps;
  }

  /** Marks this norm as folded into the convolution before it (or not). */
  void setFolded(boolean folded) {
    this.folded = folded;
  }

  /** The per-channel affine map a frozen norm applies: {@code x * scale + shift}. */
  record Affine(NDArray scale, NDArray shift) {}

  /**
   * Returns the per-channel scale {@code w / sqrt(rv + eps)} and shift {@code b - rm * scale} this
   * norm applies, computed as its forward pass computes them.
   */
  Affine affine() {
    NDArray w = weight.getArray();
    NDArray scale = w.div(runningVar.getArray().add(eps).sqrt());
    NDArray shift = bias.getArray().sub(runningMean.getArray().mul(scale));
    return new Affine(scale, shift);
  }

  private static Parameter frozen(String name, Parameter.Type type) {
    return Parameter.builder().setName(name).setType(type).optRequiresGrad(false).build();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    if (folded && FrozenBatchNormFolding.applies(training)) {
      // the convolution before it applied the scale and the shift already
      return inputs;
    }
    NDArray x = inputs.singletonOrThrow();
    NDArray w = ps.getValue(weight, x.getDevice(), false);
    NDArray b = ps.getValue(bias, x.getDevice(), false);
    NDArray rm = ps.getValue(runningMean, x.getDevice(), false);
    NDArray rv = ps.getValue(runningVar, x.getDevice(), false);
    NDArray scale = w.div(rv.add(eps).sqrt());
    NDArray shift = b.sub(rm.mul(scale));
    Shape bc = new Shape(1, x.getShape().get(1), 1, 1);
    return new NDList(x.mul(scale.reshape(bc)).add(shift.reshape(bc)));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected void beforeInitialize(Shape... inputShapes) {
    super.beforeInitialize(inputShapes);
    channels = inputShapes[0].get(1);
  }

  @Override
  public void prepare(Shape[] inputShapes) {
    Shape s = new Shape(channels);
    weight.setShape(s);
    bias.setShape(s);
    runningMean.setShape(s);
    runningVar.setShape(s);
  }
}
