package dev.jdetect.models.dense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Detections;
import dev.jdetect.models.weights.TorchvisionNames;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RetinaNet and FCOS take a list of images of different sizes, as every detection model does. */
class DenseBatchTest {

  @ParameterizedTest
  @ValueSource(strings = {"retinanet-small", "fcos-small"})
  void aListOfTwoSizesDetectsAsEachImageAlone(String name) {
    try (NDManager m = NDManager.newBaseManager()) {
      DenseDetector model =
          (DenseDetector) ModelZoo.builtin().create(ModelConfig.of(name, 3).withInputSize(96, 96));
      model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 96, 96));
      for (Map.Entry<String, Parameter> p : TorchvisionNames.of(model).entrySet()) {
        if (p.getKey().endsWith("cls_logits.bias")) {
          p.getValue().getArray().muli(0); // scores near 0.5 instead of the prior 0.01
        }
      }
      ParameterStore ps = new ParameterStore(m, false);
      m.getEngine().setRandomSeed(7);
      // resized to 72x96 and 74x96: both pad to 96x96 alone and together
      NDArray a = m.randomUniform(0, 1, new Shape(3, 90, 120));
      NDArray b = m.randomUniform(0, 1, new Shape(3, 85, 110));
      List<Detections> together = model.detect(ps, new NDList(a, b));
      assertEquals(2, together.size());
      List<NDArray> images = List.of(a, b);
      for (int i = 0; i < 2; i++) {
        Detections alone = model.detect(ps, new NDList(images.get(i))).get(0);
        Detections inBatch = together.get(i);
        String what = name + " image " + i;
        assertTrue(alone.size() > 0, what + " detects something");
        assertEquals(alone.size(), inBatch.size(), what);
        assertArrayEquals(alone.labels().toLongArray(), inBatch.labels().toLongArray(), what);
        assertArrayEquals(alone.scores().toFloatArray(), inBatch.scores().toFloatArray(), 1e-5f);
        assertArrayEquals(alone.boxes().toFloatArray(), inBatch.boxes().toFloatArray(), 1e-3f);
        // boxes in the image's own pixels
        long height = images.get(i).getShape().get(1);
        long width = images.get(i).getShape().get(2);
        float[] boxes = inBatch.boxes().toFloatArray();
        for (int k = 0; k < boxes.length; k += 4) {
          assertTrue(boxes[k] >= 0 && boxes[k + 2] <= width, what + " x inside the image");
          assertTrue(boxes[k + 1] >= 0 && boxes[k + 3] <= height, what + " y inside the image");
        }
      }
      // images that pad to different sizes share the padding of the largest (as torchvision):
      // the list still runs and each image's boxes stay inside it
      NDArray tall = m.randomUniform(0, 1, new Shape(3, 200, 60));
      List<Detections> mixed = model.detect(ps, new NDList(a, tall));
      float[] tallBoxes = mixed.get(1).boxes().toFloatArray();
      assertTrue(tallBoxes.length > 0, name + " tall image detects something");
      for (int k = 0; k < tallBoxes.length; k += 4) {
        assertTrue(tallBoxes[k + 2] <= 60 && tallBoxes[k + 3] <= 200, name + " tall image box");
      }
    }
  }
}
