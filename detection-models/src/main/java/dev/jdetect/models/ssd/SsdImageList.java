package dev.jdetect.models.ssd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.Detections;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Inference of an {@link Ssd} on a list of {@code (3, H_i, W_i)} images of different sizes: each
 * image goes through the model's transform on its own (as a batch of one would), the images whose
 * model inputs have the same size run through the network together, and each image's detections are
 * mapped back to its own size.
 */
final class SsdImageList {

  private SsdImageList() {}

  static NDList detect(Ssd ssd, ParameterStore parameterStore, NDList images) {
    Map<Shape, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < images.size(); i++) {
      Shape s = images.get(i).getShape();
      if (s.dimension() != 3 || s.get(0) != 3) {
        throw new IllegalArgumentException("images[" + i + "]: expected (3, H, W), got " + s);
      }
      Shape input = ssd.transform().inputShape(new Shape(1, 3, s.get(1), s.get(2)));
      groups.computeIfAbsent(input, k -> new ArrayList<>()).add(i);
    }
    Detections[] out = new Detections[images.size()];
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      for (List<Integer> group : groups.values()) {
        NDList inputs = new NDList(group.size());
        for (int i : group) {
          inputs.add(ssd.transform().apply(images.get(i).expandDims(0)));
        }
        NDArray x = inputs.size() == 1 ? inputs.get(0) : NDArrays.concat(inputs, 0);
        NDList raw = ssd.headsOn(parameterStore, x, false, images.get(0).getManager());
        int inputHeight = (int) x.getShape().get(2);
        int inputWidth = (int) x.getShape().get(3);
        for (int k = 0; k < group.size(); k++) {
          int i = group.get(k);
          NDIndex one = new NDIndex("{}:{}", k, k + 1);
          Shape s = images.get(i).getShape();
          out[i] =
              ssd.postProcessor()
                  .process(
                      raw.get(0).get(one),
                      raw.get(1).get(one),
                      raw.get(2),
                      inputHeight,
                      inputWidth,
                      (int) s.get(1),
                      (int) s.get(2))
                  .get(0);
        }
      }
      NDList result = Detections.toNDList(Arrays.asList(out));
      NDScope.unregister(result);
      return result;
    }
  }
}
