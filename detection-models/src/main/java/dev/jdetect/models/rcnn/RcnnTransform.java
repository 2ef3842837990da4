package dev.jdetect.models.rcnn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.Detections;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.transform.BilinearResize;
import dev.jdetect.models.transform.Normalization;
import java.util.ArrayList;
import java.util.List;

/**
 * The input side of a Faster R-CNN, after torchvision's {@code GeneralizedRCNNTransform}: {@link
 * Normalization normalise} every image with the ImageNet mean and standard deviation, {@link
 * BilinearResize resize} it bilinearly ({@code align_corners = false}, no antialiasing) so that its
 * short side is {@code minSize} unless its long side would exceed {@code maxSize}, and pad the
 * batch with zeros to a multiple of {@code sizeDivisible}. The sizes before and after resizing are
 * remembered so that target boxes can be scaled into the network's pixels and detections back into
 * the caller's.
 *
 * <p>The scale factor and output size are computed exactly as torchvision 0.14 does: {@code scale =
 * min(minSize / shortSide, maxSize / longSide)} in float32 (as {@code reciprocal * size}), output
 * size {@code floor(side * scale)} in double; {@code F.interpolate} then recomputes the scale from
 * the two sizes ({@code recompute_scale_factor=True}), so the pixels are those of a resize to that
 * size.
 */
public final class RcnnTransform {

  private final int minSize;
  private final int maxSize;
  private final Normalization normalization;
  private final int sizeDivisible;
  private final boolean antialias;

  private RcnnTransform(Builder builder) {
    this.minSize = builder.minSize;
    this.maxSize = builder.maxSize;
    this.normalization = builder.normalization;
    this.sizeDivisible = builder.sizeDivisible;
    this.antialias = builder.antialias;
  }

  /**
   * Returns a builder with torchvision's defaults (800 / 1333, ImageNet mean/std, 32, no
   * antialiasing).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the target length of the short side.
   *
   * @return {@code minSize}
   */
  public int getMinSize() {
    return minSize;
  }

  /**
   * Returns the upper bound of the long side.
   *
   * @return {@code maxSize}
   */
  public int getMaxSize() {
    return maxSize;
  }

  /**
   * Returns the input normalisation.
   *
   * @return the mean and standard deviation
   */
  public Normalization getNormalization() {
    return normalization;
  }

  /**
   * Returns the padding multiple of the batch.
   *
   * @return {@code sizeDivisible}
   */
  public int getSizeDivisible() {
    return sizeDivisible;
  }

  /**
   * Returns the size an image of the given size is resized to.
   *
   * @param height the image height
   * @param width the image width
   * @return {@code {h, w}} after resizing
   */
  public int[] resizedSize(int height, int width) {
    float shortSide = Math.min(height, width);
    float longSide = Math.max(height, width);
    // torch computes `python_float / tensor` as reciprocal(tensor) * python_float in float32
    float byShort = (1f / shortSide) * (float) minSize;
    float byLong = (1f / longSide) * (float) maxSize;
    float scale = Math.min(byShort, byLong);
    int h = (int) Math.floor(height * (double) scale);
    int w = (int) Math.floor(width * (double) scale);
    return new int[] {h, w};
  }

  /**
   * Normalises, resizes and pads a batch.
   *
   * <p>The images are either one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * (images of different sizes). The result lives on the manager of the first image.
   *
   * @param images the images, float32 RGB in {@code [0, 1]}
   * @return the transformed batch
   * @throws IllegalArgumentException if an image is not {@code (3, H, W)} float32 with {@code H, W
   *     >= 1}, or resizes to less than one pixel
   */
  public ImageBatch apply(NDList images) {
    if (images == null || images.isEmpty()) {
      throw new IllegalArgumentException("images: expected (N,3,H,W) or (3,H,W) arrays, got none");
    }
    NDManager resultManager = images.get(0).getManager();
    List<int[]> originals = new ArrayList<>();
    List<int[]> sizes = new ArrayList<>();
    NDArray batch;
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      List<NDArray> list = split(images);
      List<NDArray> resized = new ArrayList<>();
      int maxH = 0;
      int maxW = 0;
      for (int i = 0; i < list.size(); i++) {
        NDArray image = list.get(i);
        int h = (int) image.getShape().get(1);
        int w = (int) image.getShape().get(2);
        int[] target = resizedSize(h, w);
        if (target[0] < 1 || target[1] < 1) {
          throw new IllegalArgumentException(
              "images["
                  + i
                  + "]: image of size "
                  + h
                  + "x"
                  + w
                  + " resizes to "
                  + target[0]
                  + "x"
                  + target[1]
                  + " (minSize "
                  + minSize
                  + ", maxSize "
                  + maxSize
                  + ")");
        }
        NDArray out =
            BilinearResize.resize(normalization.apply(image), target[0], target[1], antialias);
        originals.add(new int[] {h, w});
        sizes.add(target);
        resized.add(out);
        maxH = Math.max(maxH, target[0]);
        maxW = Math.max(maxW, target[1]);
      }
      int padH = (int) (Math.ceil(maxH / (double) sizeDivisible) * sizeDivisible);
      int padW = (int) (Math.ceil(maxW / (double) sizeDivisible) * sizeDivisible);
      NDList padded = new NDList(resized.size());
      for (NDArray image : resized) {
        padded.add(pad(resultManager, image, padH, padW).expandDims(0));
      }
      batch = padded.size() == 1 ? padded.get(0) : NDArrays.concat(padded, 0);
      NDScope.unregister(batch);
    }
    NDScope.register(batch); // belongs to the caller's scope, if any
    return new ImageBatch(batch, sizes, originals);
  }

  /**
   * Normalises, resizes and pads a batch as {@link #apply(NDList)}, and checks that every resized
   * image is at least {@code minSide} pixels high and wide (a detector needs each image to cover
   * one cell of its coarsest feature map).
   *
   * @param images one {@code (N, 3, H, W)} array or several {@code (3, H_i, W_i)} arrays
   * @param minSide the smallest allowed resized side, e.g. the backbone's largest stride
   * @return the transformed batch
   * @throws IllegalArgumentException if an image is malformed or resizes below {@code minSide}
   */
  public ImageBatch apply(NDList images, int minSide) {
    ImageBatch batch = apply(images);
    for (int i = 0; i < batch.size(); i++) {
      int[] size = batch.imageSizes().get(i);
      if (size[0] < minSide || size[1] < minSide) {
        int[] original = batch.originalSizes().get(i);
        batch.tensor().close();
        throw new IllegalArgumentException(
            "images["
                + i
                + "]: image of size "
                + original[0]
                + "x"
                + original[1]
                + " resizes to "
                + size[0]
                + "x"
                + size[1]
                + ", smaller than the backbone stride "
                + minSide);
      }
    }
    return batch;
  }

  /**
   * Scales training targets from the images as given into the pixels of a transformed batch, on the
   * batch's device.
   *
   * @param targets one target per image, in input pixels
   * @param batch the transformed batch
   * @return the targets in resized pixels
   * @throws IllegalArgumentException if the target and image counts differ
   */
  public static List<ImageTargets> resizeTargets(List<ImageTargets> targets, ImageBatch batch) {
    if (targets.size() != batch.size()) {
      throw new IllegalArgumentException(
          "targets hold " + targets.size() + " images but the batch has " + batch.size());
    }
    Device device = batch.tensor().getDevice();
    List<ImageTargets> resized = new ArrayList<>(targets.size());
    for (int i = 0; i < targets.size(); i++) {
      NDArray boxes =
          resizeBoxes(
              targets.get(i).boxes().toDevice(device, false),
              batch.originalSizes().get(i),
              batch.imageSizes().get(i));
      resized.add(new ImageTargets(boxes, targets.get(i).labels().toDevice(device, false)));
    }
    return resized;
  }

  private static List<NDArray> split(NDList images) {
    List<NDArray> list = new ArrayList<>();
    if (images.size() == 1 && images.get(0).getShape().dimension() == 4) {
      NDArray all = images.get(0);
      for (long i = 0; i < all.getShape().get(0); i++) {
        list.add(all.get(i));
      }
      if (list.isEmpty()) {
        throw new IllegalArgumentException("images: batch " + all.getShape() + " is empty");
      }
    } else {
      list.addAll(images);
    }
    for (int i = 0; i < list.size(); i++) {
      NDArray image = list.get(i);
      Shape s = image.getShape();
      if (s.dimension() != 3 || s.get(0) != 3 || s.get(1) < 1 || s.get(2) < 1) {
        throw new IllegalArgumentException(
            "images[" + i + "]: expected shape (3, H, W) with H, W >= 1, got " + s);
      }
      if (image.getDataType() != DataType.FLOAT32) {
        throw new IllegalArgumentException(
            "images[" + i + "]: expected float32 in [0, 1], got " + image.getDataType());
      }
    }
    return list;
  }

  private static NDArray pad(NDManager scope, NDArray image, int height, int width) {
    long h = image.getShape().get(1);
    long w = image.getShape().get(2);
    NDArray out = image;
    if (w < width) {
      out =
          out.concat(scope.zeros(new Shape(3, h, width - w), DataType.FLOAT32, out.getDevice()), 2);
    }
    if (h < height) {
      out =
          out.concat(
              scope.zeros(new Shape(3, height - h, width), DataType.FLOAT32, out.getDevice()), 1);
    }
    return out;
  }

  /**
   * Scales boxes from one image size to another: {@code x * (w_to / w_from)}, {@code y * (h_to /
   * h_from)} with the ratios in float32 (torchvision's {@code resize_boxes}).
   *
   * @param boxes {@code (K, 4)} boxes
   * @param from {@code {h, w}} the boxes refer to
   * @param to {@code {h, w}} to scale into
   * @return the scaled boxes on the manager of {@code boxes}
   */
  public static NDArray resizeBoxes(NDArray boxes, int[] from, int[] to) {
    float ratioH = (float) to[0] / (float) from[0];
    float ratioW = (float) to[1] / (float) from[1];
    NDArray ratios =
        boxes
            .getManager()
            .create(new float[] {ratioW, ratioH, ratioW, ratioH})
            .toDevice(boxes.getDevice(), false);
    return boxes.mul(ratios);
  }

  /**
   * Maps detections from the resized image back to the image as it was given.
   *
   * @param detections per-image detections in resized pixels
   * @param batch the batch they were computed on
   * @return the detections in original pixels (scores and labels unchanged)
   */
  public List<Detections> postprocess(List<Detections> detections, ImageBatch batch) {
    List<Detections> out = new ArrayList<>(detections.size());
    for (int i = 0; i < detections.size(); i++) {
      Detections d = detections.get(i);
      NDArray boxes =
          resizeBoxes(d.boxes(), batch.imageSizes().get(i), batch.originalSizes().get(i));
      out.add(new Detections(boxes, d.scores(), d.labels()));
    }
    return out;
  }

  /** A builder of {@link RcnnTransform} with torchvision's defaults; every setting is optional. */
  public static final class Builder {

    private int minSize = 800;
    private int maxSize = 1333;
    private Normalization normalization = Normalization.imagenet();
    private int sizeDivisible = 32;
    private boolean antialias;

    private Builder() {}

    /**
     * Sets the target length of the short side.
     *
     * @param minSize pixels, default 800
     * @return this builder
     */
    public Builder optMinSize(int minSize) {
      this.minSize = minSize;
      return this;
    }

    /**
     * Sets the upper bound of the long side.
     *
     * @param maxSize pixels, default 1333
     * @return this builder
     */
    public Builder optMaxSize(int maxSize) {
      this.maxSize = maxSize;
      return this;
    }

    /**
     * Sets the per-channel mean and standard deviation (default ImageNet's, {@code (0.485, 0.456,
     * 0.406)} and {@code (0.229, 0.224, 0.225)}).
     *
     * @param mean three values, RGB, subtracted from {@code [0, 1]} images
     * @param std three positive values, RGB, divided by
     * @return this builder
     * @throws IllegalArgumentException if there are not three of each or a std is not positive
     */
    public Builder optNormalization(float[] mean, float[] std) {
      this.normalization = Normalization.of(mean, std);
      return this;
    }

    /**
     * Sets the multiple the padded batch height and width are rounded up to.
     *
     * @param sizeDivisible pixels, default 32
     * @return this builder
     */
    public Builder optSizeDivisible(int sizeDivisible) {
      this.sizeDivisible = sizeDivisible;
      return this;
    }

    /**
     * Sets whether shrinking averages over each output pixel's footprint (default false, as
     * torchvision; see {@link BilinearResize}).
     *
     * @param antialias whether to antialias
     * @return this builder
     */
    public Builder optAntialias(boolean antialias) {
      this.antialias = antialias;
      return this;
    }

    /**
     * Builds the transform.
     *
     * @return the transform
     * @throws IllegalArgumentException on non-positive sizes
     */
    public RcnnTransform build() {
      if (minSize < 1 || maxSize < 1 || sizeDivisible < 1) {
        throw new IllegalArgumentException(
            "minSize ("
                + minSize
                + "), maxSize ("
                + maxSize
                + ") and sizeDivisible ("
                + sizeDivisible
                + ") must be >= 1");
      }
      return new RcnnTransform(this);
    }
  }
}
