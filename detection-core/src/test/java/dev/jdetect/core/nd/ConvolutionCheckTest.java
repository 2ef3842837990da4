package dev.jdetect.core.nd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConvolutionCheckTest {

  /**
   * On processors where oneDNN's blocked convolutions are wrong (24 input channels gave errors up
   * to 0.6 on the CI machine), the check switches oneDNN off; afterwards convolutions are exact
   * everywhere.
   */
  @Test
  void convolutionsAreExactAfterTheCheck() {
    ConvolutionCheck.ensureCorrect();
    double error = ConvolutionCheck.largestError();
    assertTrue(error <= 1e-4, "largest convolution error " + error);
  }

  @Test
  void theCheckRunsOnceAndAnswersTheSame() {
    boolean first = ConvolutionCheck.ensureCorrect();
    assertTrue(first == ConvolutionCheck.ensureCorrect());
  }
}
