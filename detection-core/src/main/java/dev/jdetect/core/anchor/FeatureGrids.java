package dev.jdetect.core.anchor;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/** Argument checks and grid reads shared by the per-level anchor generators. */
final class FeatureGrids {

  private FeatureGrids() {}

  /**
   * Checks the arguments of a {@code generate} call: a manager, one feature shape per level, each
   * ending in a positive grid {@code (H, W)}, and a positive image size.
   */
  static void validate(
      NDManager manager, List<Shape> featureShapes, int levels, int imageHeight, int imageWidth) {
    if (manager == null) {
      throw new IllegalArgumentException("manager must not be null");
    }
    if (featureShapes == null || featureShapes.size() != levels) {
      throw new IllegalArgumentException(
          "featureShapes must have one shape per level ("
              + levels
              + "), got "
              + (featureShapes == null ? "null" : featureShapes.size() + ": " + featureShapes));
    }
    if (imageHeight <= 0 || imageWidth <= 0) {
      throw new IllegalArgumentException(
          "image size must be positive, got imageHeight="
              + imageHeight
              + ", imageWidth="
              + imageWidth);
    }
    for (int l = 0; l < featureShapes.size(); l++) {
      Shape s = featureShapes.get(l);
      if (s == null || s.dimension() < 2) {
        throw new IllegalArgumentException(
            "featureShapes[" + l + "] must have at least 2 axes (H, W), got " + s);
      }
      if (height(s) <= 0 || width(s) <= 0) {
        throw new IllegalArgumentException(
            "featureShapes[" + l + "] must have a positive grid (H, W), got " + s);
      }
    }
  }

  /** The grid height: the second-to-last axis of a feature shape. */
  static long height(Shape featureShape) {
    return featureShape.get(featureShape.dimension() - 2);
  }

  /** The grid width: the last axis of a feature shape. */
  static long width(Shape featureShape) {
    return featureShape.get(featureShape.dimension() - 1);
  }

  /**
   * Returns a copy of per-level pixel distances (strides, steps) after checking each is positive;
   * {@code null} stays {@code null}.
   */
  static int[] copyPositive(int[] values, String name) {
    if (values == null) {
      return null;
    }
    for (int v : values) {
      if (v <= 0) {
        throw new IllegalArgumentException(
            name + " must be positive, got " + Arrays.toString(values));
      }
    }
    return values.clone();
  }
}
