package dev.jdetect.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Seeds for reproducible training. DJL's initializers draw from the engine's generator, so a model
 * initialised without seeding it starts from different weights in every process; {@link
 * #initialize} seeds it first. {@link DetectionTrainer} re-seeds it before every step with {@link
 * #engineSeed} of its seed and the global step.
 */
public final class Seeds {

  /** The stream of {@link #engineSeed} used for model initialisation. */
  private static final long INIT_STREAM = -1;

  private Seeds() {}

  /**
   * Seeds the engine's generator from {@code seed}, then initialises the model, so one seed gives
   * the same initial weights in every run on the same engine and device.
   *
   * @param model the model
   * @param manager the manager of the parameters
   * @param seed the run's seed (the one given to the trainer)
   * @param dataType the parameters' data type, e.g. {@link DataType#FLOAT32}
   * @param inputShapes the input shapes, e.g. {@code new Shape(1, 3, H, W)}
   */
  public static void initialize(
      Block model, NDManager manager, long seed, DataType dataType, Shape... inputShapes) {
    Engine.getInstance().setRandomSeed(engineSeed(seed, INIT_STREAM));
    model.initialize(manager, dataType, inputShapes);
  }

  /**
   * Derives a seed for the engine's generator from a run's seed and a stream number (the trainer
   * uses the global step).
   *
   * @param seed the run's seed
   * @param stream the stream
   * @return a non-negative {@code int} seed
   */
  public static int engineSeed(long seed, long stream) {
    return new SplittableRandom(seed ^ (stream * 0x9E3779B97F4A7C15L)).nextInt() & 0x7fffffff;
  }

  /** Returns {@code 0..n-1} in the order of a Fisher-Yates shuffle drawn from {@code random}. */
  static int[] shuffledOrder(int n, Random random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
