package dev.jdetect.models.rcnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/** Puts arrays returned by collaborators into the current {@link NDScope}, if any. */
final class Scopes {

  private Scopes() {}

  /**
   * Registers an array with the innermost open scope (a no-op outside scopes, and harmless if it is
   * already registered), so that results a collaborator took out of its own scope are released with
   * ours.
   *
   * @param array the array
   * @return the array
   */
  static NDArray track(NDArray array) {
    NDScope.register(array);
    return array;
  }

  /**
   * Registers several arrays, see {@link #track(NDArray)}.
   *
   * @param arrays the arrays
   * @return the arrays
   */
  static NDArray[] track(NDArray[] arrays) {
    for (NDArray a : arrays) {
      NDScope.register(a);
    }
    return arrays;
  }
}
