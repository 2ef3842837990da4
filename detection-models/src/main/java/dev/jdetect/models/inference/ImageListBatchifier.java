package dev.jdetect.models.inference;

import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.translate.Batchifier;

/**
 * Batches images the way jdetect models take them: images of one size are stacked into one {@code
 * (N, 3, H, W)} array; images of different sizes stay a list of {@code (3, H_i, W_i)} arrays, which
 * each model resizes (and, for Faster R-CNN, pads) with its own transform. The model's output,
 * three arrays per image (boxes, scores, labels), is split back into one list per image.
 */
public final class ImageListBatchifier implements Batchifier {

  private static final long serialVersionUID = 1L;

  /** {@inheritDoc} */
  @Override
  public NDList batchify(NDList[] inputs) {
    if (inputs.length == 0) {
      return new NDList();
    }
    NDList batch = new NDList(inputs.length);
    boolean oneSize = true;
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i].size() != 1) {
        throw new IllegalArgumentException(
            "inputs[" + i + "]: expected one image array, got " + inputs[i].size());
      }
      batch.add(inputs[i].head());
      oneSize &= batch.head().getShape().equals(inputs[i].head().getShape());
    }
    return oneSize ? new NDList(NDArrays.stack(batch)) : batch;
  }

  /** {@inheritDoc} */
  @Override
  public NDList[] unbatchify(NDList outputs) {
    if (outputs.size() % 3 != 0) {
      throw new IllegalArgumentException(
          "model output must hold boxes, scores and labels per image, got "
              + outputs.size()
              + " arrays");
    }
    NDList[] perImage = new NDList[outputs.size() / 3];
    for (int i = 0; i < perImage.length; i++) {
      perImage[i] = new NDList(outputs.get(3 * i), outputs.get(3 * i + 1), outputs.get(3 * i + 2));
    }
    return perImage;
  }

  /** {@inheritDoc} */
  @Override
  public NDList[] split(NDList list, int numOfSlices, boolean evenSplit) {
    int n = list.size();
    int slices = Math.min(numOfSlices, n);
    NDList[] out = new NDList[slices];
    int from = 0;
    for (int s = 0; s < slices; s++) {
      int to = from + (n - from) / (slices - s);
      out[s] = new NDList(list.subList(from, to));
      from = to;
    }
    return out;
  }
}
