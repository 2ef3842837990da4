package dev.jdetect.models.weights;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** The byte-level reads of {@link RestrictedUnpickler}: little-endian integers, lengths, text. */
final class PickleBytes {

  private final InputStream in;
  private final String source;
  private long position;

  PickleBytes(InputStream in, String source) {
    this.in = in;
    this.source = source;
  }

  /** The offset of the next byte in the pickle. */
  long position() {
    return position;
  }

  String line(long at) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int c = u8(); c != '\n'; c = u8()) {
      if (sb.length() > 256) {
        throw malformed("GLOBAL name longer than 256 characters", at);
      }
      sb.append((char) c);
    }
    return sb.toString();
  }

  String text(long length, long at) throws IOException {
    return new String(bytes(checkedLength(length, at)), StandardCharsets.UTF_8);
  }

  int checkedLength(long length, long at) throws IOException {
    if (length < 0 || length > Integer.MAX_VALUE - 16) {
      throw malformed("length " + length + " out of range", at);
    }
    return (int) length;
  }

  static Object littleEndianInteger(byte[] le) {
    if (le.length == 0) {
      return 0L;
    }
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    BigInteger value = new BigInteger(be);
    return value.bitLength() < 64 ? (Object) value.longValue() : value;
  }

  int u8() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException(source + ": pickle ends early at byte " + position + " (truncated?)");
    }
    position++;
    return b;
  }

  long u32() throws IOException {
    return (u8() | (u8() << 8) | (u8() << 16) | ((long) u8() << 24)) & 0xFFFFFFFFL;
  }

  int i32() throws IOException {
    return (int) u32();
  }

  long u64(long at) throws IOException {
    long low = u32();
    long high = u32();
    if (high != 0) {
      throw malformed("8-byte length too large", at);
    }
    return low;
  }

  byte[] bytes(int n) throws IOException {
    byte[] out = in.readNBytes(n);
    position += out.length;
    if (out.length != n) {
      throw new EOFException(source + ": pickle ends early at byte " + position + " (truncated?)");
    }
    return out;
  }

  private IOException malformed(String what, long at) {
    return new IOException(source + ": malformed pickle at byte " + at + ": " + what);
  }
}
