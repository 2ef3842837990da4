package dev.jdetect.models.backbone;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;

/**
 * The VGG16 convolutional trunk ("configuration D") laid out as torchvision's {@code
 * vgg16().features}: a single child {@code features} whose 31 positions hold the 13 3x3
 * convolutions, their ReLUs and the 5 max pools at torchvision's indices (conv1_1 is {@code
 * features.0}, conv5_3 is {@code features.28}, the last pool {@code features.30}).
 *
 * <p>Two forms: {@link Form#FEATURES} (all 31 modules, 512 channels, stride 32) and {@link
 * Form#CONV5_3} (without the last pool, 512 channels, stride 16; the Faster R-CNN trunk). An
 * ImageNet {@code vgg16} {@code state_dict} loads onto either (its {@code classifier.*} entries are
 * unexpected names and may be ignored).
 */
public final class Vgg16 extends AbstractBlock implements Backbone {

  /** Which part of the trunk the backbone runs. */
  public enum Form {
    /** All of {@code features}: output after pool5, stride 32. */
    FEATURES,
    /** {@code features[:30]}: output of conv5_3 + ReLU, stride 16. */
    CONV5_3
  }

  /** torchvision's VGG16 configuration: channel counts, 0 marks a max pool. */
  private static final int[] CONFIG = {
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0
  };

  private final Form form;
  private final SequentialBlock features;

  private Vgg16(Builder builder) {
    ConvolutionCheck.ensureCorrect();
    this.form = builder.form;
    int modules = form == Form.FEATURES ? 31 : 30;
    features = addChildBlock("features", buildFeatures(modules, false));
    Backbones.freezeLeading(features, builder.frozenModules);
  }

  /**
   * Builds the first {@code numModules} modules of torchvision's {@code vgg16().features}
   * (convolutions with bias and padding 1, ReLU, 2x2 stride-2 max pools), each at its torchvision
   * index. Fresh convolution weights are Kaiming-normal with fan-out and biases zero, as
   * torchvision's {@code VGG} initialises them.
   *
   * @param numModules how many modules to build, 1 to 31
   * @param pool3CeilMode whether the third max pool ({@code features.16}) uses ceil mode, as in the
   *     SSD form of VGG16
   * @return the sequential block
   */
  public static SequentialBlock buildFeatures(int numModules, boolean pool3CeilMode) {
    if (numModules < 1 || numModules > 31) {
      throw new IllegalArgumentException("numModules must be in [1, 31], got " + numModules);
    }
    SequentialBlock seq = new SequentialBlock();
    int pools = 0;
    for (int c : CONFIG) {
      if (seq.getChildren().size() >= numModules) {
        break;
      }
      if (c == 0) {
        pools++;
        boolean ceil = pool3CeilMode && pools == 3;
        seq.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), ceil));
      } else {
        Block conv = ConvBlocks.conv(c, 3, 1, 1, 1, true);
        conv.setInitializer(
            new XavierInitializer(
                XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.OUT, 2f),
            Parameter.Type.WEIGHT);
        seq.add(conv);
        if (seq.getChildren().size() < numModules) {
          seq.add(Activation.reluBlock());
        }
      }
    }
    return seq;
  }

  /**
   * Returns a builder with torchvision's layout and the {@link Form#FEATURES} form.
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
   * Returns the {@code features} sequential block (the torchvision module list).
   *
   * @return the features block
   */
  public SequentialBlock getFeatures() {
    return features;
  }

  @Override
  public int[] outChannels() {
    return new int[] {512};
  }

  @Override
  public int[] strides() {
    return new int[] {form == Form.FEATURES ? 32 : 16};
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    Backbones.checkImages(inputs, "images");
    return SequentialForward.releasing(features, ps, inputs, training, params);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return features.getOutputShapes(inputShapes);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    features.initialize(manager, dataType, inputShapes);
  }

  /** Builder for {@link Vgg16}. */
  public static final class Builder {
    private int frozenModules;
    private Form form = Form.FEATURES;

    private Builder() {}

    /**
     * Sets the form (default {@link Form#FEATURES}).
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
     * Freezes the parameters of the first {@code numModules} modules of {@code features} (default
     * 0; e.g. 10 for VGG16 freezes conv1 and conv2 as the original Faster R-CNN does).
     *
     * @param numModules how many leading {@code features} modules to freeze, &gt;= 0
     * @return this builder
     */
    public Builder optFrozenModules(int numModules) {
      if (numModules < 0) {
        throw new IllegalArgumentException("numModules must be >= 0, got " + numModules);
      }
      this.frozenModules = numModules;
      return this;
    }

    /**
     * Builds the backbone.
     *
     * @return the backbone block
     */
    public Vgg16 build() {
      return new Vgg16(this);
    }
  }
}
