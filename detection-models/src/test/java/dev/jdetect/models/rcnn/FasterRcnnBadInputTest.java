package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Targets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input gives an IllegalArgumentException naming the image and the field. */
class FasterRcnnBadInputTest {

  private static NDManager manager;
  private static FasterRcnn model;
  private static ParameterStore ps;

  @BeforeAll
  static void setUp() {
    manager = NDManager.newBaseManager();
    model = RcnnFixtures.roiPool(false);
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 72, 96));
    ps = new ParameterStore(manager, false);
  }

  @AfterAll
  static void tearDown() {
    manager.close();
  }

  private static NDList twoImages() {
    return FasterRcnnTrainingTest.syntheticImages(manager);
  }

  private static NDList targets(float[] secondBox, long secondLabel) {
    NDArray ok = manager.create(new float[] {10, 12, 50, 44}, new Shape(1, 4));
    NDArray bad = manager.create(secondBox, new Shape(1, 4));
    return Targets.pad(
        manager,
        List.of(ok, bad),
        List.of(manager.create(new long[] {1}), manager.create(new long[] {secondLabel})));
  }

  private static void assertMessage(IllegalArgumentException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks " + part);
    }
  }

  @Test
  void degenerateBoxNamesImageAndField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.forward(ps, twoImages(), targets(new float[] {30, 20, 30, 40}, 1), null));
    assertMessage(e, "image 1", "box", "degenerate");
  }

  @Test
  void labelOutOfRangeNamesImageAndField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.forward(ps, twoImages(), targets(new float[] {5, 5, 30, 40}, 3), null));
    assertMessage(e, "image 1", "label 3");
    IllegalArgumentException zero =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.forward(ps, twoImages(), targets(new float[] {5, 5, 30, 40}, 0), null));
    assertMessage(zero, "image 1", "label 0");
  }

  @Test
  void nanInTargetsNamesImageAndField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                model.forward(
                    ps, twoImages(), targets(new float[] {5, Float.NaN, 30, 40}, 1), null));
    assertMessage(e, "image 1", "box", "not finite");
  }

  @Test
  void imageSmallerThanTheStrideIsRejected() {
    // 80/128 transform: a 10x500 strip resizes to 2x128, less than the stride 16
    NDArray strip = manager.ones(new Shape(3, 10, 500));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.forward(ps, new NDList(twoImages().get(0), strip), false));
    assertMessage(e, "images[1]", "stride 16");
  }

  @Test
  void malformedImagesAreRejected() {
    IllegalArgumentException gray =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.forward(ps, new NDList(manager.ones(new Shape(1, 40, 40))), false));
    assertMessage(gray, "images[0]", "(3, H, W)");
    IllegalArgumentException ints =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                model.forward(
                    ps, new NDList(manager.ones(new Shape(3, 40, 40), DataType.INT32)), false));
    assertMessage(ints, "images[0]", "float32");
  }

  @Test
  void targetCountMustMatchImages() {
    NDList oneTarget =
        Targets.pad(
            manager,
            List.of(manager.create(new float[] {10, 12, 50, 44}, new Shape(1, 4))),
            List.of(manager.create(new long[] {1})));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> model.forward(ps, twoImages(), oneTarget, null));
    assertMessage(e, "targets hold 1 images", "batch has 2");
  }

  @Test
  void trainingWithoutTargetsIsRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> model.forward(ps, twoImages(), true));
    assertMessage(e, "targets");
  }
}
