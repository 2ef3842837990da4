package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.Backbone;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.backbone.ResNet50;
import java.util.ArrayList;
import java.util.List;

/**
 * The SSD300 ResNet-50 feature extractor of NVIDIA's DeepLearningExamples SSD: ResNet-50 through
 * {@code layer3} with the first block of {@code layer3} at stride 1 ({@link ResNet50.Form#SSD},
 * 1024 channels, 38x38 at 300x300), then five extra blocks with batch norm, each {@code 1x1 conv
 * (no bias), BN, ReLU, 3x3 conv (no bias), BN, ReLU}: intermediate channels 256, 256, 128, 128,
 * 128, outputs 512, 512, 256, 256, 256, the first three 3x3 convolutions stride 2 padding 1 and the
 * last two stride 1 without padding. Six sources of {@code [1024, 512, 512, 256, 256, 256]}
 * channels, 38, 19, 10, 5, 3, 1 at 300x300.
 *
 * <p>Names: {@code features.*} is the {@link ResNet50} ({@code features.conv1.weight}, {@code
 * features.layer3.0.downsample.0.weight}, ..., so ImageNet weights load with {@code
 * optSourcePrefix}/{@code features.} mapping), {@code extra.i.{0,1,3,4}} the extra blocks. {@link
 * #ssd300(int)} assembles the detector with the plain 3x3 SSD head and SSD300's default boxes
 * (8732).
 */
public final class SsdResNet50 extends AbstractBlock implements Backbone {

  private static final int[] OUT = {1024, 512, 512, 256, 256, 256};
  private static final int[] MID = {256, 256, 128, 128, 128};
  private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  private final ResNet50 features;
  private final ModuleList extra;

  /**
   * Creates the extractor.
   *
   * @param frozenBatchNorm whether the ResNet-50 trunk uses frozen batch norm (the extras always
   *     train theirs)
   */
  public SsdResNet50(boolean frozenBatchNorm) {
    features =
        addChildBlock(
            "features",
            ResNet50.builder()
                .optForm(ResNet50.Form.SSD)
                .optFrozenBatchNorm(frozenBatchNorm)
                .build());
    List<Block> extras = new ArrayList<>();
    for (int i = 0; i < MID.length; i++) {
      extras.add(extraBlock(MID[i], OUT[i + 1], i < 3));
    }
    extra = addChildBlock("extra", new ModuleList(extras));
  }

  /**
   * One NVIDIA SSD extra block: 1x1 conv (no bias), BN, ReLU, 3x3 conv (no bias), BN, ReLU, at
   * positions 0..5.
   *
   * @param mid the channels of the 1x1 convolution
   * @param out the output channels
   * @param downsample true for stride 2 padding 1, false for stride 1 without padding
   * @return the block
   */
  public static SequentialBlock extraBlock(int mid, int out, boolean downsample) {
    SequentialBlock blk = new SequentialBlock();
    blk.add(ConvBlocks.conv(mid, 1, 1, 0, 1, false));
    blk.add(ConvBlocks.batchNorm(1e-5f, 0.1f));
    blk.add(Activation.reluBlock());
    blk.add(ConvBlocks.conv(out, 3, downsample ? 2 : 1, downsample ? 1 : 0, 1, false));
    blk.add(ConvBlocks.batchNorm(1e-5f, 0.1f));
    blk.add(Activation.reluBlock());
    return blk;
  }

  /**
   * Creates SSD300 on ResNet-50 (NVIDIA's design): 300x300 input normalised with ImageNet mean/std,
   * this extractor (trainable batch norm), the 3x3 SSD head, SSD300 default boxes ({@code [[2], [2,
   * 3], [2, 3], [2, 3], [2], [2]]}, 8732 boxes), MultiBox loss and SSD post-processing with their
   * defaults.
   *
   * @param numClasses object classes, background excluded
   * @return the model (not initialised)
   */
  public static Ssd ssd300(int numClasses) {
    return Ssd.builder()
        .setBackbone(new SsdResNet50(false))
        .setNumClasses(numClasses)
        .setAnchorGenerator(DefaultBoxGenerator.ssd300())
        .setTransform(
            FixedSizeTransform.builder()
                .setSize(300, 300)
                .optNormalization(IMAGENET_MEAN, IMAGENET_STD)
                .build())
        .build();
  }

  /**
   * Returns the ResNet-50 trunk.
   *
   * @return the trunk
   */
  public ResNet50 getTrunk() {
    return features;
  }

  @Override
  public int[] outChannels() {
    return OUT.clone();
  }

  @Override
  public int[] strides() {
    return new int[] {8, 16, 32, 64, 100, 300};
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDList out = new NDList(OUT.length);
    NDArray x = features.forward(ps, inputs, training).head();
    out.add(x);
    for (int i = 0; i < extra.size(); i++) {
      x = extra.get(i).forward(ps, new NDList(x), training).head();
      out.add(x);
    }
    return out;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape[] out = new Shape[OUT.length];
    Shape[] s = features.getOutputShapes(inputShapes);
    out[0] = s[0];
    for (int i = 0; i < extra.size(); i++) {
      s = extra.get(i).getOutputShapes(s);
      out[i + 1] = s[0];
    }
    return out;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    features.initialize(manager, dataType, inputShapes);
    Shape[] s = features.getOutputShapes(inputShapes);
    for (int i = 0; i < extra.size(); i++) {
      extra.get(i).initialize(manager, dataType, s);
      s = extra.get(i).getOutputShapes(s);
    }
  }
}
