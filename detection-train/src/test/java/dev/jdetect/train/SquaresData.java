package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.Targets;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.data.TrainingData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Test data: {@code size} images of 3x16x16, one square per image (class 1 red, class 2 blue) on a
 * noisy grey background; a random horizontal flip drawn from the trainer's generator.
 */
public final class SquaresData implements TrainingData {

  static final int SIDE = 16;

  private final int size;
  private final int nanFromCall;
  private final int failAtCall;
  private final boolean flips;
  private int calls;

  SquaresData(int size) {
    this(size, -1, -1);
  }

  /**
   * Creates test data that misbehaves.
   *
   * @param size sample count
   * @param nanFromCall from this 0-based batch call on, boxes hold NaN (-1: never)
   * @param failAtCall at this 0-based batch call, throw as if the process died (-1: never)
   */
  SquaresData(int size, int nanFromCall, int failAtCall) {
    this(size, nanFromCall, failAtCall, true);
  }

  private SquaresData(int size, int nanFromCall, int failAtCall, boolean flips) {
    this.size = size;
    this.nanFromCall = nanFromCall;
    this.failAtCall = failAtCall;
    this.flips = flips;
  }

  /**
   * Creates the data without flips: a sample's pixels depend on its index alone.
   *
   * @param size sample count
   * @return the data
   */
  public static SquaresData withoutFlips(int size) {
    return new SquaresData(size, -1, -1, false);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public TrainingBatch batch(NDManager manager, int[] indices, Random random) {
    int call = calls++;
    if (call == failAtCall) {
      throw new IllegalStateException("simulated crash at batch call " + call);
    }
    boolean nanBoxes = nanFromCall >= 0 && call >= nanFromCall;
    int n = indices.length;
    float[] pixels = new float[n * 3 * SIDE * SIDE];
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    for (int b = 0; b < n; b++) {
      Random r = new Random(1000L + indices[b]);
      int cls = 1 + r.nextInt(2);
      int side = 4 + r.nextInt(5);
      int x0 = r.nextInt(SIDE - side + 1);
      int y0 = r.nextInt(SIDE - side + 1);
      boolean flip = flips && random.nextBoolean();
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < SIDE; y++) {
          for (int x = 0; x < SIDE; x++) {
            int sx = flip ? SIDE - 1 - x : x;
            boolean inside = sx >= x0 && sx < x0 + side && y >= y0 && y < y0 + side;
            float v = 0.4f + 0.1f * r.nextFloat();
            if (inside) {
              v = (cls == 1 && c == 0) || (cls == 2 && c == 2) ? 1f : 0f;
            }
            pixels[((b * 3 + c) * SIDE + y) * SIDE + x] = v;
          }
        }
      }
      float bx1 = flip ? SIDE - (x0 + side) : x0;
      float[] box = {bx1, y0, bx1 + side, y0 + side};
      if (nanBoxes) {
        box[2] = Float.NaN;
      }
      boxes.add(manager.create(box, new Shape(1, 4)));
      labels.add(manager.create(new long[] {cls}));
    }
    NDArray images = manager.create(pixels, new Shape(n, 3, SIDE, SIDE));
    return new TrainingBatch(images, Targets.pad(manager, boxes, labels));
  }
}
