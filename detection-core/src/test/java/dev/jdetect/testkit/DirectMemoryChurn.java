package dev.jdetect.testkit;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Test utility: lets the garbage collector free every unreachable direct buffer, then reuses the
 * freed native memory with a recognisable pattern (777.0f), as a busy training step does between
 * the forward and the backward pass.
 */
public final class DirectMemoryChurn {

  private static final int[] SIZES = {4, 8, 16, 32, 64, 128, 256, 1024, 4096};

  private DirectMemoryChurn() {}

  /**
   * Runs {@code rounds} rounds of garbage collection followed by direct allocations.
   *
   * @param rounds the number of rounds
   */
  public static void churn(int rounds) throws InterruptedException {
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < 3; k++) {
        System.gc();
        Thread.sleep(10);
      }
      List<ByteBuffer> junk = new ArrayList<>();
      for (int size : SIZES) {
        for (int k = 0; k < 2_000; k++) {
          ByteBuffer b = ByteBuffer.allocateDirect(size);
          for (int i = 0; i + 4 <= size; i += 4) {
            b.putFloat(i, 777f);
          }
          junk.add(b);
        }
      }
      junk.clear();
    }
  }
}
