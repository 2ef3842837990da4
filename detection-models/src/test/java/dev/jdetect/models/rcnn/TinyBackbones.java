package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jdetect.models.Backbone;

/** The small backbones of gen_models_rcnn.py, with torchvision's module names. */
final class TinyBackbones {

  private TinyBackbones() {}

  static Conv2d conv(int filters) {
    return Conv2d.builder()
        .setFilters(filters)
        .setKernelShape(new Shape(3, 3))
        .optStride(new Shape(2, 2))
        .optPadding(new Shape(1, 1))
        .build();
  }

  static long half(long size) {
    return (size + 2 - 3) / 2 + 1;
  }

  /** {@code backbone.body} (stride 8, 16 ch) and {@code backbone.down} (stride 16, 16 ch). */
  static final class TwoLevel extends AbstractBlock implements Backbone {
    private final SequentialBlock body;
    private final SequentialBlock down;

    TwoLevel() {
      body =
          addChildBlock(
              "body",
              new SequentialBlock()
                  .add(conv(8))
                  .add(Activation.reluBlock())
                  .add(conv(16))
                  .add(Activation.reluBlock())
                  .add(conv(16))
                  .add(Activation.reluBlock()));
      down = addChildBlock("down", new SequentialBlock().add(conv(16)).add(Activation.reluBlock()));
    }

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      NDArray c3 = body.forward(ps, inputs, training).singletonOrThrow();
      NDArray c4 = down.forward(ps, new NDList(c3), training).singletonOrThrow();
      return new NDList(c3, c4);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] in) {
      Shape s = in[0];
      long h3 = half(half(half(s.get(2))));
      long w3 = half(half(half(s.get(3))));
      return new Shape[] {
        new Shape(s.get(0), 16, h3, w3), new Shape(s.get(0), 16, half(h3), half(w3))
      };
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... in) {
      body.initialize(manager, dataType, in[0]);
      down.initialize(manager, dataType, body.getOutputShapes(new Shape[] {in[0]}));
    }

    @Override
    public int[] outChannels() {
      return new int[] {16, 16};
    }

    @Override
    public int[] strides() {
      return new int[] {8, 16};
    }
  }

  /** {@code backbone.0 .. backbone.7}: four stride-2 convs with ReLU (stride 16, 16 ch). */
  static final class OneLevel extends SequentialBlock implements Backbone {
    /** The training flag of the last forward pass. */
    Boolean lastTraining;

    @Override
    protected NDList forwardInternal(
        ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
      lastTraining = training;
      return super.forwardInternal(ps, inputs, training, params);
    }

    OneLevel() {
      add(conv(8)).add(Activation.reluBlock());
      add(conv(16)).add(Activation.reluBlock());
      add(conv(16)).add(Activation.reluBlock());
      add(conv(16)).add(Activation.reluBlock());
    }

    @Override
    public int[] outChannels() {
      return new int[] {16};
    }

    @Override
    public int[] strides() {
      return new int[] {16};
    }
  }
}
