package dev.jdetect.models.rcnn;

import dev.jdetect.core.coder.BoxCoder;
import java.util.Arrays;

/** Checks that the parts of a stage encode and decode boxes the same way. */
final class BoxCoders {

  private BoxCoders() {}

  /**
   * Checks that two box coders are interchangeable.
   *
   * @param decoding the coder that decodes predictions
   * @param encoding the coder that encodes the training targets
   * @param where the stage, for the message
   * @throws IllegalArgumentException if their weights or clip differ
   */
  static void checkSame(BoxCoder decoding, BoxCoder encoding, String where) {
    if (!Arrays.equals(decoding.getWeights(), encoding.getWeights())
        || decoding.getBboxXformClip() != encoding.getBboxXformClip()) {
      throw new IllegalArgumentException(
          where
              + ": predictions are decoded with "
              + decoding
              + " but training targets encoded with "
              + encoding
              + "; give both the same box coder");
    }
  }
}
