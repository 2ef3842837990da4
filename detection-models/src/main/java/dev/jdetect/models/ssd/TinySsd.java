package dev.jdetect.models.ssd;

import ai.djl.nn.Block;
import dev.jdetect.core.anchor.MultiBoxPrior;
import dev.jdetect.core.anchor.MultiBoxPriors;
import dev.jdetect.models.Targets;
import dev.jdetect.models.backbone.ConvBlocks;
import dev.jdetect.models.weights.TorchvisionNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TinySSD from Dive into Deep Learning (section "Single Shot Multibox Detection"), built as an
 * {@link Ssd} with the book's parts.
 *
 * <p>Network: the {@link TinySsdBackbone} (base net of 16, 32 and 64 channels, three 128-channel
 * down-sampling blocks, a global max pool); every scale {@code i} has a 3x3 class predictor {@code
 * cls_i} and a 3x3 box predictor {@code bbox_i} (an {@link SsdHead}) and the D2L anchors ({@link
 * MultiBoxPriors}) of sizes {@code [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79],
 * [0.88, 0.961]]} and ratios {@code [1, 2, 0.5]}: 4 per pixel, 5444 anchors at 256x256. Parameter
 * names follow D2L's PyTorch attributes ({@code blk_0.0.0.weight}, {@code cls_0.weight}, ...), so a
 * D2L {@code TinySSD} state_dict loads through {@code dev.jdetect.models.weights}.
 *
 * <p>Input: float32 RGB {@code (N, 3, H, W)} used as given (no normalisation or resizing; the first
 * batch norm takes care of the scale), {@code H, W >= 64} ({@link UnscaledTransform}). Anchors are
 * relative to the input size, so the network runs at any such size.
 *
 * <ul>
 *   <li>Training, {@code forward(ps, images, targets, params)} with {@link Targets}: the losses
 *       {@code loss_bbox_regression} and {@code loss_classification}. With {@link LossType#D2L}
 *       (default) they are D2L's ({@link D2lLoss}); with {@link LossType#MULTIBOX} the shared
 *       {@link MultiBoxLoss} runs on the same predictions (SSD matcher, box coder weights (10, 10,
 *       5, 5), which equal D2L's 0.1 / 0.2 variances, hard-negative mining 3:1, smooth L1; both
 *       terms over the number of positives).
 *   <li>Inference, {@code forward(ps, images, training)}: D2L's {@code multibox_detection} ({@link
 *       D2lPostProcessor}), boxes in input pixels, in the {@link
 *       dev.jdetect.models.Detections#toNDList} form.
 * </ul>
 */
public final class TinySsd {

  /** Which training loss a TinySSD computes. */
  public enum LossType {
    /** D2L's loss: mean CE over all anchors + mean masked L1 on offsets. */
    D2L,
    /** SSD MultiBox: CE with 3:1 hard-negative mining + smooth L1, over positives. */
    MULTIBOX
  }

  /** D2L's anchor sizes per scale. */
  public static final float[][] DEFAULT_SIZES = {
    {0.2f, 0.272f}, {0.37f, 0.447f}, {0.54f, 0.619f}, {0.71f, 0.79f}, {0.88f, 0.961f}
  };

  /** D2L's anchor ratios (the same at every scale). */
  public static final float[] DEFAULT_RATIOS = {1f, 2f, 0.5f};

  /** The smallest input height and width. */
  public static final int MIN_SIZE = 64;

  private static final int NUM_SCALES = 5;

  private TinySsd() {}

  /**
   * Returns a builder; the number of classes must be set.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns D2L's names of a TinySSD's parameters: from the names {@link TorchvisionNames} derives
   * from an {@link Ssd} tree ({@code backbone.blk_0...}, {@code
   * head.classification_head.module_list.0...}) to D2L's ({@code blk_0...}, {@code cls_0...}).
   */
  private static Map<String, String> d2lNames(TinySsdBackbone backbone, SsdHead head) {
    Map<String, String> aliases = new LinkedHashMap<>();
    for (String name : TorchvisionNames.of(backbone).keySet()) {
      aliases.put("backbone." + name, name);
    }
    String cls = "classification_head.module_list.";
    String box = "regression_head.module_list.";
    for (String name : TorchvisionNames.of(head).keySet()) {
      if (name.startsWith(cls)) {
        aliases.put("head." + name, "cls_" + name.substring(cls.length()));
      } else if (name.startsWith(box)) {
        aliases.put("head." + name, "bbox_" + name.substring(box.length()));
      }
    }
    return aliases;
  }

  /** Builder for a TinySSD {@link Ssd}. */
  public static final class Builder {
    private int numClasses = -1;
    private float[][] sizes = DEFAULT_SIZES;
    private float[] ratios = DEFAULT_RATIOS;
    private int[] baseChannels = {16, 32, 64};
    private int channels = 128;
    private LossType lossType = LossType.D2L;
    private float matchThreshold = 0.5f;
    private float nmsThreshold = 0.5f;
    private float scoreThreshold = 0.009999999f;
    private int maxDetections = -1;
    private MultiBoxLoss multiBoxLoss = MultiBoxLoss.builder().build();

    private Builder() {}

    /**
     * Sets the number of object classes, background excluded (required).
     *
     * @param numClasses at least 1
     * @return this builder
     */
    public Builder setNumClasses(int numClasses) {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
      }
      this.numClasses = numClasses;
      return this;
    }

    /**
     * Sets the anchor sizes, one array per scale (default D2L's).
     *
     * @param sizes five arrays of relative sizes, all of one length
     * @return this builder
     */
    public Builder optSizes(float[][] sizes) {
      if (sizes == null || sizes.length != NUM_SCALES) {
        throw new IllegalArgumentException("sizes must have " + NUM_SCALES + " scales");
      }
      this.sizes = sizes.clone();
      return this;
    }

    /**
     * Sets the anchor ratios (default {@code 1, 2, 0.5}).
     *
     * @param ratios the width/height ratios
     * @return this builder
     */
    public Builder optRatios(float... ratios) {
      this.ratios = ratios.clone();
      return this;
    }

    /**
     * Sets the channels of the base net's three blocks (default 16, 32, 64) and of the later
     * down-sampling blocks (default 128).
     *
     * @param baseChannels three channel counts
     * @param channels the channels of {@code blk_1..blk_3}
     * @return this builder
     */
    public Builder optChannels(int[] baseChannels, int channels) {
      if (baseChannels == null || baseChannels.length != 3 || channels < 1) {
        throw new IllegalArgumentException(
            "baseChannels must have 3 entries and channels >= 1, got "
                + Arrays.toString(baseChannels)
                + ", "
                + channels);
      }
      this.baseChannels = baseChannels.clone();
      this.channels = channels;
      return this;
    }

    /**
     * Selects the training loss (default {@link LossType#D2L}).
     *
     * @param lossType the loss
     * @return this builder
     */
    public Builder optLossType(LossType lossType) {
      if (lossType == null) {
        throw new IllegalArgumentException("lossType must not be null");
      }
      this.lossType = lossType;
      return this;
    }

    /**
     * Sets the IoU at which {@link LossType#D2L} assigns an anchor to a ground truth (default 0.5).
     *
     * @param threshold the IoU threshold
     * @return this builder
     */
    public Builder optMatchThreshold(float threshold) {
      this.matchThreshold = threshold;
      return this;
    }

    /**
     * Sets the class-agnostic NMS IoU (default D2L's 0.5).
     *
     * @param threshold the IoU threshold
     * @return this builder
     */
    public Builder optNmsThreshold(float threshold) {
      this.nmsThreshold = threshold;
      return this;
    }

    /**
     * Sets the minimum score of a detection (default D2L's 0.009999999).
     *
     * @param threshold the score threshold
     * @return this builder
     */
    public Builder optScoreThreshold(float threshold) {
      this.scoreThreshold = threshold;
      return this;
    }

    /**
     * Caps the detections per image (default -1: no cap, as D2L).
     *
     * @param maxDetections the cap, or -1
     * @return this builder
     */
    public Builder optMaxDetections(int maxDetections) {
      this.maxDetections = maxDetections;
      return this;
    }

    /**
     * Sets the loss {@link LossType#MULTIBOX} computes (default {@link MultiBoxLoss} with
     * torchvision's SSD settings).
     *
     * @param loss the MultiBox loss
     * @return this builder
     */
    public Builder optMultiBoxLoss(MultiBoxLoss loss) {
      if (loss == null) {
        throw new IllegalArgumentException("loss must not be null");
      }
      this.multiBoxLoss = loss;
      return this;
    }

    /**
     * Builds the model.
     *
     * @return the TinySSD detector
     * @throws IllegalArgumentException if the number of classes is not set or the scales have
     *     different numbers of sizes
     */
    public Ssd build() {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses must be set (>= 1)");
      }
      List<MultiBoxPrior> levels = new ArrayList<>(NUM_SCALES);
      for (float[] s : sizes) {
        levels.add(MultiBoxPrior.builder().setSizes(s).setRatios(ratios).build());
        if (levels.get(0).numAnchorsPerLocation()
            != levels.get(levels.size() - 1).numAnchorsPerLocation()) {
          throw new IllegalArgumentException(
              "sizes: every scale needs the same number of sizes, got "
                  + Arrays.deepToString(sizes));
        }
      }
      int anchors = levels.get(0).numAnchorsPerLocation();
      TinySsdBackbone backbone = new TinySsdBackbone(baseChannels, channels);
      List<Block> cls = new ArrayList<>(NUM_SCALES);
      List<Block> box = new ArrayList<>(NUM_SCALES);
      for (int i = 0; i < NUM_SCALES; i++) {
        cls.add(ConvBlocks.conv(anchors * (numClasses + 1), 3, 1, 1, 1, true));
        box.add(ConvBlocks.conv(anchors * 4, 3, 1, 1, 1, true));
      }
      SsdHead head = new SsdHead(new ScoringHead(cls, numClasses + 1), new ScoringHead(box, 4));
      SsdLoss loss = lossType == LossType.D2L ? new D2lLoss(matchThreshold) : multiBoxLoss;
      return Ssd.builder()
          .setBackbone(backbone)
          .setNumClasses(numClasses)
          .setAnchorGenerator(new MultiBoxPriors(levels))
          .setTransform(new UnscaledTransform(MIN_SIZE))
          .optHead(head)
          .optLoss(loss)
          .optPostProcessor(new D2lPostProcessor(nmsThreshold, scoreThreshold, maxDetections))
          .optTorchvisionAliases(d2lNames(backbone, head))
          .build();
    }
  }
}
