package dev.jdetect.models.rcnn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed box-head losses. */
class FastRcnnLossTest {

  @Test
  void crossEntropyOverSampledAndSmoothL1OfTheTrueClassOverSampled() {
    try (NDManager m = NDManager.newBaseManager()) {
      // two sampled RoIs: row 0 of class 1 (positive), row 1 background; three classes
      RoiSampler.Samples samples =
          new RoiSampler.Samples(
              List.of(m.zeros(new Shape(2, 4))),
              m.create(new long[] {1, 0}),
              m.create(new long[] {0}),
              m.create(new float[] {0.5f, 0, 0, 0}, new Shape(1, 4)));
      NDArray logits = m.zeros(new Shape(2, 3));
      // deltas of the other classes and of the negative must not count
      float[] deltas = new float[24];
      for (int i = 0; i < deltas.length; i++) {
        deltas[i] = 7f;
      }
      for (int j = 4; j < 8; j++) {
        deltas[j] = 0f; // row 0, class 1
      }
      NDArray boxRegression = m.create(deltas, new Shape(2, 12));
      FastRcnnLoss.Losses losses =
          FastRcnnLoss.builder().build().compute(logits, boxRegression, samples);
      // uniform logits: cross-entropy ln 3 for each of the two RoIs, divided by 2
      assertEquals((float) Math.log(3), losses.classifier().getFloat(), 1e-6f);
      assertEquals("loss_classifier", losses.classifier().getName());
      // |0.5| >= beta 1/9: 0.5 - 1/18, divided by the 2 sampled RoIs
      assertEquals((0.5f - 1f / 18) / 2, losses.boxRegression().getFloat(), 1e-6f);
      assertEquals("loss_box_reg", losses.boxRegression().getName());
    }
  }

  @Test
  void withoutPositivesTheBoxLossIsZero() {
    try (NDManager m = NDManager.newBaseManager()) {
      RoiSampler.Samples samples =
          new RoiSampler.Samples(
              List.of(m.zeros(new Shape(1, 4))),
              m.create(new long[] {0}),
              m.zeros(new Shape(0), DataType.INT64),
              m.zeros(new Shape(0, 4)));
      FastRcnnLoss.Losses losses =
          FastRcnnLoss.builder()
              .build()
              .compute(m.zeros(new Shape(1, 3)), m.ones(new Shape(1, 12)), samples);
      assertEquals((float) Math.log(3), losses.classifier().getFloat(), 1e-6f);
      assertEquals(0f, losses.boxRegression().getFloat());
    }
  }
}
