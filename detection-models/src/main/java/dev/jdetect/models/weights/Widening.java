package dev.jdetect.models.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Widens 16-bit element types that DJL 0.35.1's PyTorch engine cannot hold (creating an INT16 or
 * BFLOAT16 array aborts the JVM) to 32 bits, exactly: int16 to int32, bfloat16 to float32.
 */
final class Widening {

  private Widening() {}

  /**
   * Widens little-endian 16-bit elements.
   *
   * @param raw the elements, from position to limit
   * @param bfloat16 {@code true} for bfloat16 (to float32), {@code false} for int16 (to int32)
   * @return a direct little-endian buffer of 32-bit elements, ready to read
   */
  static ByteBuffer widen(ByteBuffer raw, boolean bfloat16) {
    ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
    while (in.remaining() >= 2) {
      short v = in.getShort();
      // a bfloat16 is the upper 16 bits of the float32 with the same value
      out.putInt(bfloat16 ? (v & 0xFFFF) << 16 : v);
    }
    return out.flip();
  }
}
