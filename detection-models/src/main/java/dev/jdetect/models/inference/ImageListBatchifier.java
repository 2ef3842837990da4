package dev.jdetect.models.inference;

import ai.djl.ndarray.NDList;
import ai.djl.translate.Batchifier;

/**
 * Batches images of different sizes the way jdetect models take them: the batch is the list of the
 * images' {@code (3, H_i, W_i)} arrays, unstacked, and each model resizes (and, for Faster R-CNN,
 * pads) them with its own transform. The model's output, three arrays per image (boxes, scores,
 * labels), is split back into one list per image.
 */
public final class ImageListBatchifier implements Batchifier {

  private static final long serialVersionUID = 1L;

  /** {@inheritDoc} */
  @Override
  public NDList batchify(NDList[] inputs) {
    NDList batch = new NDList(inputs.length);
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i].size() != 1) {
        throw new IllegalArgumentException(
            "inputs[" + i + "]: expected one image array, got " + inputs[i].size());
      }
      batch.add(inputs[i].head());
    }
    return batch;
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
