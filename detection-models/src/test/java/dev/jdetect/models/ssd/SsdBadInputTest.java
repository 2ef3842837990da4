package dev.jdetect.models.ssd;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.anchor.DefaultBoxGenerator;
import dev.jdetect.models.Targets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class SsdBadInputTest {

  private static NDManager manager;
  private static Ssd model;
  private static ParameterStore ps;

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
    model = SmallSsd.model();
    model.initialize(manager, DataType.FLOAT32, new Shape(2, 3, 40, 56));
    ps = new ParameterStore(manager, false);
  }

  @AfterAll
  static void tearDown() {
    manager.close();
  }

  private static void assertMessage(Executable call, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
    }
  }

  private static NDList targets(float[][] boxes0, long[] labels0) {
    return Targets.pad(
        manager,
        List.of(manager.create(boxes0), manager.zeros(new Shape(0, 4))),
        List.of(manager.create(labels0), manager.zeros(new Shape(0), DataType.INT64)));
  }

  @Test
  void wrongChannelsRankOrType() {
    NDArray four = manager.zeros(new Shape(1, 4, 40, 56));
    assertMessage(() -> model.forward(ps, new NDList(four), false), "images", "4 channels");
    NDArray chw = manager.zeros(new Shape(3, 40, 56));
    assertMessage(() -> model.forward(ps, new NDList(chw), false), "images", "(N, 3, H, W)");
    NDArray nan = manager.zeros(new Shape(2, 3, 40, 56));
    nan.set(new NDIndex("1, 2, 5, 7"), Float.NaN);
    assertMessage(() -> model.forward(ps, new NDList(nan), false), "image 1", "NaN");
    NDArray ints = manager.zeros(new Shape(1, 3, 40, 56), DataType.INT32);
    assertMessage(() -> model.forward(ps, new NDList(ints), false), "images", "floating");
  }

  @Test
  void wrongSizeWhenResizingIsOff() {
    Ssd fixed =
        Ssd.builder()
            .setBackbone(SmallSsd.backbone())
            .setNumClasses(3)
            .setAnchorGenerator(DefaultBoxGenerator.ssd300())
            .setTransform(FixedSizeTransform.builder().setSize(300, 300).optResize(false).build())
            .build();
    NDArray small = manager.zeros(new Shape(1, 3, 40, 56));
    assertMessage(() -> fixed.forward(ps, new NDList(small), false), "300x300", "40x56");
  }

  @Test
  void badTargetsNameImageAndField() {
    NDArray images = manager.zeros(new Shape(2, 3, 40, 56));
    NDList label = targets(new float[][] {{1, 1, 5, 5}}, new long[] {4});
    assertMessage(() -> model.forward(ps, new NDList(images), label, null), "image 0", "label 4");
    NDList negative = targets(new float[][] {{-1, 1, 5, 5}}, new long[] {1});
    assertMessage(
        () -> model.forward(ps, new NDList(images), negative, null), "image 0", "negative");
    NDList nan = targets(new float[][] {{1, Float.NaN, 5, 5}}, new long[] {1});
    assertMessage(() -> model.forward(ps, new NDList(images), nan, null), "image 0", "finite");
    NDList degenerate = targets(new float[][] {{5, 1, 5, 5}}, new long[] {1});
    assertMessage(
        () -> model.forward(ps, new NDList(images), degenerate, null), "image 0", "degenerate");
    NDArray three = manager.zeros(new Shape(3, 3, 40, 56));
    NDList ok = targets(new float[][] {{1, 1, 5, 5}}, new long[] {1});
    assertMessage(() -> model.forward(ps, new NDList(three), ok, null), "targets hold 2", "3");
  }

  @Test
  void builderRejectsMismatchedParts() {
    assertMessage(
        () ->
            Ssd.builder()
                .setBackbone(SmallSsd.backbone())
                .setNumClasses(3)
                .setAnchorGenerator(
                    DefaultBoxGenerator.builder()
                        .setAspectRatios(List.of(new float[] {2}, new float[] {2}))
                        .build())
                .setTransform(SsdModels.vggTransform(300))
                .build(),
        "6 sources",
        "2 levels");
    assertMessage(
        () ->
            Ssd.builder()
                .setBackbone(SmallSsd.backbone())
                .setNumClasses(0)
                .setAnchorGenerator(DefaultBoxGenerator.ssd300())
                .setTransform(SsdModels.vggTransform(300))
                .build(),
        "numClasses");
  }
}
