package dev.jdetect.core.coder;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.testkit.Fixtures;
import org.junit.jupiter.api.Test;

/** FCOS's linear box coder equals torchvision 0.14.1's BoxLinearCoder (gen_core_retinanet.py). */
class BoxLinearCoderTest {

  @Test
  void encodeAndDecodeMatchTorchvision() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList f = Fixtures.load(manager, "/fixtures/coder/box_linear_coder.npz");
      NDArray anchors = Fixtures.get(f, "anchors");
      NDArray boxes = Fixtures.get(f, "boxes");
      NDArray codes = Fixtures.get(f, "codes");
      for (int n = 0; n < 2; n++) {
        BoxLinearCoder coder = new BoxLinearCoder(n == 1);
        assertClose(
            Fixtures.get(f, "encoded_n" + n), coder.encode(anchors, boxes), 1e-5f, "encode " + n);
        assertClose(
            Fixtures.get(f, "decoded_n" + n),
            coder.decode(codes, anchors.broadcast(new Shape(2, 6, 4))),
            1e-5f,
            "decode " + n);
        // decoding the encoding gives the boxes back
        assertClose(
            boxes, coder.decode(coder.encode(anchors, boxes), anchors), 1e-4f, "round trip");
      }
      assertThrows(
          IllegalArgumentException.class,
          () -> new BoxLinearCoder(true).encode(anchors, manager.zeros(new Shape(5, 4))));
    }
  }
}
