package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.roi.MultiScaleRoiAlign;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.WeightImport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Loads the gen_models_rcnn.py fixtures and builds the matching models. */
public final class RcnnFixtures {

  static final String DIR = "/fixtures/rcnn/";

  private RcnnFixtures() {}

  static Map<String, NDArray> load(NDManager manager, String file) {
    try (InputStream is = RcnnFixtures.class.getResourceAsStream(DIR + file)) {
      if (is == null) {
        throw new IllegalStateException("missing fixture " + DIR + file);
      }
      NDList list = NDList.decode(manager, is);
      Map<String, NDArray> out = new LinkedHashMap<>();
      for (NDArray a : list) {
        out.put(a.getName(), a);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RcnnTransform transform() {
    return RcnnTransform.builder().optMinSize(80).optMaxSize(128).build();
  }

  static BalancedPositiveNegativeSampler sampler(int perImage, double fraction, boolean takeAll) {
    return BalancedPositiveNegativeSampler.builder()
        .optBatchSizePerImage(perImage)
        .optPositiveFraction(fraction)
        .optTakeAll(takeAll)
        .optSeed(7)
        .build();
  }

  /**
   * The "two_level" model of the generator.
   *
   * @param takeAll whether the samplers keep every positive and negative
   * @return the model (not initialised)
   */
  public static FasterRcnn twoLevel(boolean takeAll) {
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {16, 32}, new float[] {48, 96}))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder()
            .setInChannels(16)
            .optAnchorGenerator(anchors)
            .optProposalFilter(
                ProposalFilter.builder().optPreNmsTopN(400, 300).optPostNmsTopN(200, 100).build())
            .optLoss(RpnLoss.builder().optSampler(sampler(256, 0.5, takeAll)).build())
            .build();
    MultiScaleRoiAlign align =
        MultiScaleRoiAlign.builder()
            .optOutputSize(7, 7)
            .optSamplingRatio(2)
            .optCanonicalScale(64)
            .optCanonicalLevel(4)
            .build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.multiScaleRoiAlign(align, 7, 7))
            .optBoxHead(TwoMlpHead.builder().optUnits(32).build())
            .setNumClasses(3)
            .optSampler(RoiSampler.builder().optSampler(sampler(512, 0.25, takeAll)).build())
            .optPostProcessor(RoiPostProcessor.builder().optDetectionsPerImage(50).build())
            .build();
    return FasterRcnn.builder()
        .setBackbone(new TinyBackbones.TwoLevel())
        .optTransform(transform())
        .setRpn(rpn)
        .setRoiHeads(heads)
        .build();
  }

  /** The "roipool" model of the generator. */
  static FasterRcnn roiPool(boolean takeAll) {
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(List.of(new float[] {32, 64}))
            .optAspectRatios(List.of(new float[] {0.5f, 1f, 2f}))
            .build();
    RegionProposalNetwork rpn =
        RegionProposalNetwork.builder()
            .setInChannels(16)
            .optAnchorGenerator(anchors)
            .optProposalFilter(
                ProposalFilter.builder().optPreNmsTopN(200, 150).optPostNmsTopN(120, 60).build())
            .optLoss(RpnLoss.builder().optSampler(sampler(256, 0.5, takeAll)).build())
            .build();
    RoiHeads heads =
        RoiHeads.builder()
            .setPooler(RoiPoolers.roiPool(7, 1f / 16))
            .optBoxHead(TwoMlpHead.builder().optUnits(32).build())
            .setNumClasses(2)
            .optSampler(RoiSampler.builder().optSampler(sampler(512, 0.25, takeAll)).build())
            .optPostProcessor(RoiPostProcessor.builder().optDetectionsPerImage(40).build())
            .build();
    return FasterRcnn.builder()
        .setBackbone(new TinyBackbones.OneLevel())
        .optTransform(transform())
        .setRpn(rpn)
        .setRoiHeads(heads)
        .build();
  }

  static FasterRcnn build(String name, boolean takeAll) {
    return "two_level".equals(name) ? twoLevel(takeAll) : roiPool(takeAll);
  }

  /** Initialises the model and imports the generator's seeded torchvision weights (strict). */
  static void loadWeights(NDManager manager, FasterRcnn model, String name) {
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
    try (InputStream is = RcnnFixtures.class.getResourceAsStream(DIR + name + "_weights.npz")) {
      StateDict sd = StateDict.fromNpz(manager, is);
      WeightImport.load(model, sd);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
