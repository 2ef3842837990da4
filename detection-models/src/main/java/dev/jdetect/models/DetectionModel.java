package dev.jdetect.models;

import ai.djl.nn.Block;

/**
 * A detector that trains on {@link Targets} and predicts {@link Detections}.
 *
 * <p>Every jdetect model is a DJL {@link Block} with two modes:
 *
 * <ul>
 *   <li>training: {@code forward(parameterStore, images, targets, params)} with {@code targets} in
 *       the {@link Targets} form returns an {@link ai.djl.ndarray.NDList} of scalar losses, each
 *       named {@code loss_*} (see {@link #lossNames()}); a trainer sums them, possibly weighted.
 *   <li>inference: {@code forward(parameterStore, images, false)} returns the {@link Detections} of
 *       each image in the batch in the {@link Detections#toNDList} form, with boxes in the pixels
 *       of the images as they were given.
 * </ul>
 *
 * <p>Images enter as float32 RGB in {@code [0, 1]}: one {@code (N, 3, H, W)} array, or in inference
 * several {@code (3, H_i, W_i)} arrays of different sizes (what {@link
 * dev.jdetect.models.inference.DetectionTranslator} passes); the model normalises and resizes them
 * itself, so weights and pre-processing travel together.
 */
public interface DetectionModel extends Block {

  /**
   * Returns the number of object classes, background excluded. Class ids are {@code 1..C}.
   *
   * @return the number of object classes
   */
  int numClasses();

  /**
   * Returns the names of the losses the training forward pass returns, in order.
   *
   * @return the loss names, each starting with {@code loss_}
   */
  String[] lossNames();
}
