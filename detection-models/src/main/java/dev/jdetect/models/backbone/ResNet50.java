package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ResNet-50 laid out as torchvision's {@code resnet50()}: children {@code conv1}, {@code bn1},
 * {@code relu}, {@code maxpool}, {@code layer1} ... {@code layer4}, each layer a sequential of
 * {@link Bottleneck}s (3, 4, 6, 3 blocks). The classifier ({@code avgpool}, {@code fc}) is not
 * built; an ImageNet {@code state_dict} loads with {@code fc.*} left over as unexpected names.
 *
 * <p>Three forms:
 *
 * <ul>
 *   <li>{@link Form#C5}: through {@code layer4}, 2048 channels, stride 32;
 *   <li>{@link Form#C4}: through {@code layer3}, 1024 channels, stride 16 (the Faster R-CNN C4
 *       trunk);
 *   <li>{@link Form#SSD}: through {@code layer3} with the first block of {@code layer3} at stride
 *       1, 1024 channels, stride 8 (38x38 at 300x300; NVIDIA's SSD300 ResNet-50 trunk).
 * </ul>
 *
 * <p>Norms are {@code BatchNorm2d} (eps 1e-5, momentum 0.1) or, with {@link
 * Builder#optFrozenBatchNorm(boolean)}, torchvision's {@link FrozenBatchNorm2d}.
 */
public final class ResNet50 extends AbstractBlock implements Backbone {

  /** How much of the network the backbone runs. */
  public enum Form {
    /** Through {@code layer4}: 2048 channels, stride 32. */
    C5,
    /** Through {@code layer3}: 1024 channels, stride 16. */
    C4,
    /** Through {@code layer3} with {@code layer3} at stride 1: 1024 channels, stride 8. */
    SSD
  }

  private static final int[] BLOCKS = {3, 4, 6, 3};
  private static final int[] WIDTHS = {64, 128, 256, 512};

  private final Form form;
  private final boolean frozenBatchNorm;
  private final List<Block> stages = new ArrayList<>();
  private final int[] returnedLayers;

  private ResNet50(Builder builder) {
    ConvolutionCheck.ensureCorrect();
    this.form = builder.form;
    this.frozenBatchNorm = builder.frozenBatchNorm;
    this.returnedLayers = builder.returnedLayers;
    if (returnedLayers != null && form != Form.C5) {
      throw new IllegalArgumentException("returned layers need the C5 form, got " + form);
    }
    stages.add(addChildBlock("conv1", ConvBlocks.conv(64, 7, 2, 3, 1, false)));
    stages.add(addChildBlock("bn1", Bottleneck.norm(frozenBatchNorm)));
    stages.add(addChildBlock("relu", Activation.reluBlock()));
    stages.add(
        addChildBlock(
            "maxpool", Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1))));
    int numLayers = form == Form.C5 ? 4 : 3;
    for (int l = 0; l < numLayers; l++) {
      int stride = l == 0 ? 1 : 2;
      if (l == 2 && form == Form.SSD) {
        stride = 1;
      }
      stages.add(addChildBlock("layer" + (l + 1), layer(l + 1, stride, frozenBatchNorm)));
    }
    // torchvision's trainable_backbone_layers: the last n of conv1, layer1 .. layer4 train
    int trainable = builder.trainableLayers;
    for (int i = 0; i < stages.size(); i++) {
      // stage order: conv1, bn1, relu, maxpool, layer1, ...; stage rank: conv1/bn1 = 0, layerK = K
      int rank = i < 4 ? 0 : i - 3;
      boolean train = rank >= 5 - trainable;
      if (i == 1) {
        train = trainable == 5;
      }
      if (!train) {
        stages.get(i).freezeParameters(true);
      }
    }
  }

  /**
   * Builds one torchvision ResNet-50 layer: its {@link Bottleneck}s in a sequential, the first with
   * the stride and a {@code downsample} branch.
   *
   * @param index the layer, 1 to 4 (3, 4, 6, 3 blocks of width 64, 128, 256, 512)
   * @param stride the stride of its first block
   * @param frozenBatchNorm whether its norms are {@link FrozenBatchNorm2d}
   * @return the layer, e.g. {@code layer(4, 2, true)} for the ResNet-50 C4 Faster R-CNN box head
   */
  public static SequentialBlock layer(int index, int stride, boolean frozenBatchNorm) {
    if (index < 1 || index > 4) {
      throw new IllegalArgumentException("index must be in [1, 4], got " + index);
    }
    SequentialBlock layer = new SequentialBlock();
    for (int b = 0; b < BLOCKS[index - 1]; b++) {
      layer.add(new Bottleneck(WIDTHS[index - 1], b == 0 ? stride : 1, b == 0, frozenBatchNorm));
    }
    return layer;
  }

  /**
   * Returns a builder (default form {@link Form#C5}, trainable batch norm).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the form this backbone was built in.
   *
   * @return the form
   */
  public Form getForm() {
    return form;
  }

  /**
   * Returns whether the norms are frozen.
   *
   * @return true for {@link FrozenBatchNorm2d} norms
   */
  public boolean isFrozenBatchNorm() {
    return frozenBatchNorm;
  }

  @Override
  public int[] outChannels() {
    if (returnedLayers != null) {
      int[] out = new int[returnedLayers.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = 256 << (returnedLayers[i] - 1);
      }
      return out;
    }
    return new int[] {form == Form.C5 ? 2048 : 1024};
  }

  @Override
  public int[] strides() {
    if (returnedLayers != null) {
      int[] out = new int[returnedLayers.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = 4 << (returnedLayers[i] - 1);
      }
      return out;
    }
    switch (form) {
      case C5:
        return new int[] {32};
      case C4:
        return new int[] {16};
      default:
        return new int[] {8};
    }
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    Backbones.checkImages(inputs, "images");
    NDList x = inputs;
    NDList out = new NDList();
    for (int i = 0; i < stages.size(); i++) {
      x = stages.get(i).forward(ps, x, training);
      if (isReturned(i)) {
        out.add(x.singletonOrThrow());
      }
    }
    return returnedLayers == null ? x : out;
  }

  /** Whether stage {@code i} (conv1, bn1, relu, maxpool, layer1, ...) is a returned layer. */
  private boolean isReturned(int stage) {
    if (returnedLayers == null) {
      return false;
    }
    for (int layer : returnedLayers) {
      if (stage == layer + 3) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] s = inputShapes;
    List<Shape> out = new ArrayList<>();
    for (int i = 0; i < stages.size(); i++) {
      s = stages.get(i).getOutputShapes(s);
      if (isReturned(i)) {
        out.add(s[0]);
      }
    }
    return returnedLayers == null ? s : out.toArray(new Shape[0]);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape[] s = inputShapes;
    for (Block b : stages) {
      b.initialize(manager, dataType, s);
      s = b.getOutputShapes(s);
    }
  }

  /** Builder for {@link ResNet50}. */
  public static final class Builder {
    private Form form = Form.C5;
    private boolean frozenBatchNorm;
    private int trainableLayers = 5;
    private int[] returnedLayers;

    private Builder() {}

    /**
     * Sets the form (default {@link Form#C5}).
     *
     * @param form the form
     * @return this builder
     */
    public Builder optForm(Form form) {
      if (form == null) {
        throw new IllegalArgumentException("form must not be null");
      }
      this.form = form;
      return this;
    }

    /**
     * Uses {@link FrozenBatchNorm2d} instead of trainable batch norms (default false), as
     * torchvision's detection backbones do.
     *
     * @param frozen whether to freeze the norms
     * @return this builder
     */
    public Builder optFrozenBatchNorm(boolean frozen) {
      this.frozenBatchNorm = frozen;
      return this;
    }

    /**
     * Sets how many stages train, counted from the top as torchvision's {@code
     * trainable_backbone_layers} (default 5, all): the last {@code n} of {@code conv1}, {@code
     * layer1} .. {@code layer4} keep trainable parameters ({@code bn1} only when {@code n == 5}),
     * the others are frozen. torchvision's detection models use 3.
     *
     * @param trainableLayers 0 to 5
     * @return this builder
     */
    public Builder optTrainableLayers(int trainableLayers) {
      if (trainableLayers < 0 || trainableLayers > 5) {
        throw new IllegalArgumentException(
            "trainableLayers must be in [0, 5], got " + trainableLayers);
      }
      this.trainableLayers = trainableLayers;
      return this;
    }

    /**
     * Returns several layers' outputs instead of the last one, finest first, as torchvision's
     * {@code IntermediateLayerGetter} does under an FPN (default: only the last layer). Faster
     * R-CNN's FPN takes layers 1 to 4 (256, 512, 1024, 2048 channels at strides 4 to 32), RetinaNet
     * and FCOS take 2 to 4. Needs the {@link Form#C5} form.
     *
     * @param layers increasing layer numbers in [1, 4]
     * @return this builder
     */
    public Builder optReturnedLayers(int... layers) {
      if (layers.length == 0) {
        throw new IllegalArgumentException("returned layers: at least one is needed");
      }
      for (int i = 0; i < layers.length; i++) {
        if (layers[i] < 1 || layers[i] > 4 || (i > 0 && layers[i] <= layers[i - 1])) {
          throw new IllegalArgumentException(
              "returned layers must increase within [1, 4], got " + Arrays.toString(layers));
        }
      }
      this.returnedLayers = layers.clone();
      return this;
    }

    /**
     * Builds the backbone.
     *
     * @return the backbone block
     */
    public ResNet50 build() {
      return new ResNet50(this);
    }
  }
}
