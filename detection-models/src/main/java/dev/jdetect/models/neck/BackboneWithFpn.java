package dev.jdetect.models.neck;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.core.nd.ConvolutionCheck;
import dev.jdetect.models.Backbone;
import java.util.Arrays;

/**
 * A multi-level backbone with a {@link FeaturePyramidNetwork} on top, laid out as torchvision's
 * {@code BackboneWithFPN}: children {@code body} (the backbone, returning its levels finest first)
 * and {@code fpn}. It is itself a {@link Backbone} whose sources are the pyramid's levels, all with
 * the pyramid's channel count; each extra level halves the resolution of the one before.
 */
public final class BackboneWithFpn extends AbstractBlock implements Backbone {

  private final Backbone body;
  private final FeaturePyramidNetwork fpn;

  /**
   * Puts a pyramid on a backbone.
   *
   * @param body the backbone; its {@link Backbone#outChannels()} must equal the pyramid's input
   *     channels
   * @param fpn the pyramid
   * @throws IllegalArgumentException if the channel lists differ
   */
  public BackboneWithFpn(Backbone body, FeaturePyramidNetwork fpn) {
    ConvolutionCheck.ensureCorrect();
    if (!Arrays.equals(body.outChannels(), fpn.inChannels())) {
      throw new IllegalArgumentException(
          "the backbone returns channels "
              + Arrays.toString(body.outChannels())
              + " but the pyramid takes "
              + Arrays.toString(fpn.inChannels()));
    }
    this.body = addChildBlock("body", body);
    this.fpn = addChildBlock("fpn", fpn);
  }

  /**
   * Returns the backbone under the pyramid.
   *
   * @return the body
   */
  public Backbone body() {
    return body;
  }

  /**
   * Returns the pyramid.
   *
   * @return the FPN
   */
  public FeaturePyramidNetwork fpn() {
    return fpn;
  }

  @Override
  public int[] outChannels() {
    int[] out = new int[fpn.numLevels()];
    Arrays.fill(out, fpn.outChannels());
    return out;
  }

  @Override
  public int[] strides() {
    int[] bodyStrides = body.strides();
    int[] out = Arrays.copyOf(bodyStrides, fpn.numLevels());
    for (int i = bodyStrides.length; i < out.length; i++) {
      out[i] = out[i - 1] * 2;
    }
    return out;
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore parameterStore,
      NDList inputs,
      boolean training,
      PairList<String, Object> params) {
    NDList levels = body.forward(parameterStore, inputs, training, params);
    NDList pyramid = fpn.forward(parameterStore, levels, training, params);
    for (int i = 0; i < levels.size(); i++) {
      if (!pyramid.contains(levels.get(i))) {
        levels.get(i).close();
      }
    }
    return pyramid;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return fpn.getOutputShapes(body.getOutputShapes(inputShapes));
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    body.initialize(manager, dataType, inputShapes);
    fpn.initialize(manager, dataType, body.getOutputShapes(inputShapes));
  }
}
