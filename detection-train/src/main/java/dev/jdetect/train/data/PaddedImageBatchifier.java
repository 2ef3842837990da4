package dev.jdetect.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;

/**
 * Batches images of different sizes (a data batchifier for {@link DetectionDataset} when no resize
 * makes them equal, e.g. for Faster R-CNN).
 *
 * <p>Each record's data is {@code [image (C, H_i, W_i)]}. The batch is {@code [images (B, C, H, W),
 * imageSizes (B, 2)]}: images are padded with zeros at the bottom and right to the largest height
 * and width of the batch, rounded up to a multiple of {@code sizeDivisible} (torchvision's {@code
 * GeneralizedRCNNTransform} uses 32); {@code imageSizes} (int64, named {@code "image_sizes"}) holds
 * each image's {@code (H_i, W_i)}. Boxes need no change because padding never moves a pixel. Note
 * that the zeros are in {@code [0, 1]} pixel space (black): a model that normalises afterwards sees
 * {@code -mean / std} there, unlike torchvision, which pads after normalising; only the padded area
 * differs.
 *
 * <p>{@link #unbatchify} crops every image back to its size.
 */
public final class PaddedImageBatchifier implements Batchifier {

  private static final long serialVersionUID = 1L;

  private final int sizeDivisible;

  /** Creates a batchifier that pads to the largest size of each batch. */
  public PaddedImageBatchifier() {
    this(1);
  }

  /**
   * Creates a batchifier.
   *
   * @param sizeDivisible the padded height and width are multiples of this, {@code >= 1}
   */
  public PaddedImageBatchifier(int sizeDivisible) {
    if (sizeDivisible < 1) {
      throw new IllegalArgumentException("sizeDivisible must be >= 1, got " + sizeDivisible);
    }
    this.sizeDivisible = sizeDivisible;
  }

  /** {@inheritDoc} */
  @Override
  public NDList batchify(NDList[] inputs) {
    if (inputs.length == 0) {
      throw new IllegalArgumentException("inputs must not be empty");
    }
    long channels = -1;
    long hmax = 0;
    long wmax = 0;
    long[] sizes = new long[2 * inputs.length];
    for (int b = 0; b < inputs.length; b++) {
      if (inputs[b].size() != 1) {
        throw new IllegalArgumentException(
            "each record must hold exactly one image, record " + b + " has " + inputs[b].size());
      }
      Shape s = inputs[b].get(0).getShape();
      if (s.dimension() != 3 || (channels >= 0 && s.get(0) != channels)) {
        throw new IllegalArgumentException(
            "images must be (C, H, W) with the same C, record " + b + " has shape " + s);
      }
      channels = s.get(0);
      sizes[2 * b] = s.get(1);
      sizes[2 * b + 1] = s.get(2);
      hmax = Math.max(hmax, s.get(1));
      wmax = Math.max(wmax, s.get(2));
    }
    hmax = (hmax + sizeDivisible - 1) / sizeDivisible * sizeDivisible;
    wmax = (wmax + sizeDivisible - 1) / sizeDivisible * sizeDivisible;
    NDManager manager = inputs[0].get(0).getManager();
    NDArray images;
    try (NDManager sub = manager.newSubManager()) {
      NDList padded = new NDList(inputs.length);
      for (int b = 0; b < inputs.length; b++) {
        NDArray img = inputs[b].get(0);
        if (sizes[2 * b] == hmax && sizes[2 * b + 1] == wmax) {
          padded.add(img);
        } else {
          NDArray canvas = sub.zeros(new Shape(channels, hmax, wmax), img.getDataType());
          canvas.set(new NDIndex(":, 0:{}, 0:{}", sizes[2 * b], sizes[2 * b + 1]), img);
          padded.add(canvas);
        }
      }
      images = NDArrays.stack(padded, 0);
      images.attach(manager);
    }
    images.setName("images");
    NDArray sizeArray = manager.create(sizes, new Shape(inputs.length, 2));
    sizeArray.setName("image_sizes");
    return new NDList(images, sizeArray);
  }

  /** {@inheritDoc} */
  @Override
  public NDList[] unbatchify(NDList inputs) {
    if (inputs.size() != 2) {
      throw new IllegalArgumentException(
          "expected [images, imageSizes], got " + inputs.size() + " arrays");
    }
    NDArray images = inputs.get(0);
    long[] sizes = inputs.get(1).toType(DataType.INT64, false).toLongArray();
    int batch = (int) images.getShape().get(0);
    NDList[] out = new NDList[batch];
    for (int b = 0; b < batch; b++) {
      out[b] =
          new NDList(
              images.get(new NDIndex("{}, :, 0:{}, 0:{}", b, sizes[2 * b], sizes[2 * b + 1])));
    }
    return out;
  }
}
