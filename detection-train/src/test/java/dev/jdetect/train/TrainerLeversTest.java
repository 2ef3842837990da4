package dev.jdetect.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.TinySsd;
import dev.jdetect.testkit.NDManagerExtension;
import dev.jdetect.train.augment.Compose;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.TrainingBatch;
import dev.jdetect.train.data.TrainingData;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's speed levers change no number: prefetching batches on a thread, the gradient checks
 * without a norm, the allocator tuning.
 */
@ExtendWith(NDManagerExtension.class)
class TrainerLeversTest {

  private NDManager manager;

  @BeforeEach
  void setUp(NDManager manager) {
    this.manager = manager;
  }

  /** A seeded run's losses per step (each step's map) and its final parameters. */
  private record Run(List<Map<String, Double>> steps, Map<String, float[]> params) {}

  private Run train(int prefetch, double clipNorm, TrainingData data) throws IOException {
    return train(prefetch, clipNorm, data, 2);
  }

  private Run train(int prefetch, double clipNorm, TrainingData data, int classes)
      throws IOException {
    return train(new TinyTestModel(classes), 16, prefetch, clipNorm, data);
  }

  private Run train(
      DetectionModel model, int side, int prefetch, double clipNorm, TrainingData data)
      throws IOException {
    Engine.getInstance().setRandomSeed(5);
    model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, side, side));
    List<Map<String, Double>> steps = new ArrayList<>();
    try (DetectionTrainer t =
        DetectionTrainer.builder()
            .setModel(model)
            .optProgress(new PrintStream(new ByteArrayOutputStream()), ProgressReporter.Mode.OFF)
            .optOptimizer(ResumableSgd.builder().optMomentum(0.9f).build())
            .optSchedule(LrSchedule.constant(0.05))
            .optGradientClipNorm(clipNorm)
            .optEpochs(3)
            .optBatchSize(4)
            .optSeed(21)
            .optPrefetch(prefetch)
            .optListener(
                new TrainingListener() {
                  @Override
                  public void onStep(DetectionTrainer trainer, Step step) {
                    steps.add(new LinkedHashMap<>(step.losses()));
                  }
                })
            .build()) {
      t.fit(data);
    }
    Map<String, float[]> params = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getParameters()) {
      params.put(p.getKey(), p.getValue().getArray().toFloatArray());
    }
    return new Run(steps, params);
  }

  private static void assertSameRun(Run expected, Run actual) {
    assertEquals(expected.steps(), actual.steps(), "per-step losses");
    for (Map.Entry<String, float[]> e : expected.params().entrySet()) {
      assertArrayEquals(e.getValue(), actual.params().get(e.getKey()), e.getKey());
    }
  }

  @Test
  void prefetchingKeepsEveryStepsLossesAndTheParameters() throws IOException {
    Run serial = train(0, 0, new SquaresData(22));
    assertEquals(18, serial.steps().size());
    // the augmentation (a random flip per image) really draws: other seeds give other losses
    assertNotEquals(serial.steps().get(0).get("loss"), serial.steps().get(1).get("loss"));
    assertSameRun(serial, train(1, 0, new SquaresData(22)));
    assertSameRun(serial, train(2, 0, new SquaresData(22)));
  }

  @Test
  void prefetchingKeepsTheLossesWithTheSsdAugmentationFromFiles(@TempDir Path dir)
      throws IOException {
    AnnotationSet set =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(3)
            .optImageSize(48)
            .optNumImages(12)
            .optNumClasses(3)
            .build()
            .writeVoc(dir);
    // photometric distortion, zoom-out, IoU crop, flip and resize, all drawing from the trainer
    Run serial = train(0, 0, ssdData(set), 3);
    assertEquals(9, serial.steps().size());
    assertSameRun(serial, train(1, 0, ssdData(set), 3));
  }

  private static SampleData ssdData(AnnotationSet set) {
    return ssdData(set, SquaresData.SIDE);
  }

  private static SampleData ssdData(AnnotationSet set, int side) {
    return SampleData.builder()
        .setAnnotations(set)
        .optAugmentation(Compose.ssdTraining(side, side))
        .build();
  }

  @Test
  void releasingIntermediatesInTheForwardKeepsEveryStepsLossesAndTheParameters(@TempDir Path dir)
      throws IOException {
    AnnotationSet set =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(4)
            .optImageSize(64)
            .optNumImages(12)
            .optNumClasses(3)
            .build()
            .writeVoc(dir);
    // TinySSD's backbone closes each block's intermediates once the next layer has read them;
    // the same network through DJL's plain forward keeps them all until the step ends
    Run releasing = train(tinySsd(), 64, 0, 0, ssdData(set, 64));
    Ssd parts = tinySsd();
    Ssd keeping =
        Ssd.builder()
            .setBackbone(new KeepingBackbone(parts.backbone()))
            .setNumClasses(parts.numClasses())
            .setAnchorGenerator(parts.anchorGenerator())
            .setTransform(parts.transform())
            .optHead(parts.head())
            .optLoss(parts.loss())
            .build();
    Run kept = train(keeping, 64, 0, 0, ssdData(set, 64));
    assertEquals(9, releasing.steps().size());
    assertNotEquals(releasing.steps().get(0).get("loss"), releasing.steps().get(8).get("loss"));
    assertEquals(kept.steps(), releasing.steps(), "per-step losses");
    assertEquals(kept.params().size(), releasing.params().size());
    List<float[]> expected = new ArrayList<>(kept.params().values());
    List<String> names = new ArrayList<>(releasing.params().keySet());
    List<float[]> actual = new ArrayList<>(releasing.params().values());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), names.get(i));
    }
  }

  private static Ssd tinySsd() {
    return TinySsd.builder().setNumClasses(3).optChannels(new int[] {8, 16, 16}, 16).build();
  }

  @Test
  void theNormIsSkippedWithoutClippingAndNothingChanges() throws IOException {
    // a bound far above every norm: the norm is computed and no gradient is scaled
    Run withNorm = train(0, 1e30, new SquaresData(12));
    Run withoutNorm = train(0, 0, new SquaresData(12));
    assertSameRun(withNorm, withoutNorm);
    assertTrue(withNorm.steps().get(0).get("loss") > 0);
  }

  @Test
  void seededLossesAreThoseOfTheTrainerBeforeTheLevers() throws IOException {
    // per-step losses {loss, loss_classifier, loss_box_reg} of the same runs by the trainer
    // without prefetching, with a norm every step and one read per loss
    double[][] unclipped = {
      {0.95126873254776, 0.8472588658332825, 0.10400986671447754},
      {0.7627841234207153, 0.6265697479248047, 0.13621434569358826},
      {0.44262608885765076, 0.32905909419059753, 0.11356698721647263},
      {0.2276289165019989, 0.12779268622398376, 0.09983623027801514}
    };
    double[][] clipped = {
      {0.95126873254776, 0.8472588658332825, 0.10400986671447754},
      {0.945576012134552, 0.8111487030982971, 0.13442730903625488},
      {0.8260809183120728, 0.7147877216339111, 0.11129320412874222}
    };
    assertLosses(unclipped, train(1, 0, new SquaresData(22)));
    assertLosses(clipped, train(1, 0.5, new SquaresData(22)));
  }

  private static void assertLosses(double[][] expected, Run run) {
    for (int i = 0; i < expected.length; i++) {
      Map<String, Double> step = run.steps().get(i);
      double[] actual = {step.get("loss"), step.get("loss_classifier"), step.get("loss_box_reg")};
      assertArrayEquals(expected[i], actual, 1e-6, "step " + (i + 1));
    }
  }

  /** Records the managers it was handed; optionally fails at one call. */
  private static final class Recording implements TrainingData {
    private final SquaresData data;
    private final int failAt;
    private final List<NDManager> managers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    Recording(SquaresData data, int failAt) {
      this.data = data;
      this.failAt = failAt;
    }

    @Override
    public int size() {
      return data.size();
    }

    @Override
    public synchronized TrainingBatch batch(NDManager m, int[] indices, Random random) {
      managers.add(m);
      threads.add(Thread.currentThread());
      if (managers.size() - 1 == failAt) {
        throw new IllegalStateException("disk gone at call " + failAt);
      }
      return data.batch(m, indices, random);
    }
  }

  @Test
  void batchesLoadOnAThreadIntoManagersTheStepsClose() throws IOException {
    Recording data = new Recording(new SquaresData(20), -1);
    train(2, 0, data);
    assertEquals(15, data.managers.size());
    for (NDManager m : data.managers) {
      assertFalse(m.isOpen(), "a batch manager stays open");
    }
    assertNotEquals(Thread.currentThread(), data.threads.get(0));
    assertFalse(data.threads.get(data.threads.size() - 1).isAlive(), "loader thread still runs");
  }

  @Test
  void aLoaderErrorReachesTheTrainerWithItsCauseAndStopsTheThread() {
    Recording data = new Recording(new SquaresData(20), 3);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> train(1, 0, data));
    assertEquals("disk gone at call 3", e.getMessage());
    assertTrue(e.getSuppressed().length > 0, "the trainer's side is attached");
    for (NDManager m : data.managers) {
      assertFalse(m.isOpen(), "a batch manager stays open");
    }
    Thread loader = data.threads.get(0);
    assertNotEquals(Thread.currentThread(), loader);
    assertFalse(loader.isAlive(), "loader thread still runs");
  }

  @Test
  void aFailingStepStopsTheLoader() {
    // NaN boxes from the second batch on: a step throws while the loader waits to hand over
    Recording data = new Recording(new SquaresData(40, 1, -1), -1);
    assertThrows(NonFiniteLossException.class, () -> train(1, 0, data));
    assertTrue(data.managers.size() >= 2, "the loader ran ahead");
    for (NDManager m : data.managers) {
      assertFalse(m.isOpen(), "a batch manager stays open");
    }
    assertFalse(data.threads.get(0).isAlive(), "loader thread still runs");
  }

  @Test
  void gradientChecksSeeEveryNonFiniteElementAndOnlyThose() {
    float big = 3e38f; // finite, but two of them overflow a float32 sum
    assertTrue(GradientChecks.allFinite(grads(new float[] {big, big, 1f}, new float[] {2f})));
    assertTrue(GradientChecks.allFinite(grads(new float[] {big}, new float[] {big})));
    assertFalse(GradientChecks.allFinite(grads(new float[] {1f, Float.NaN}, new float[] {2f})));
    assertFalse(
        GradientChecks.allFinite(grads(new float[] {1f}, new float[] {Float.NEGATIVE_INFINITY})));
    assertFalse(
        GradientChecks.allFinite(
            grads(new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})));
    assertTrue(GradientChecks.allFinite(new DataParallel.Gradient[] {null}));
    assertEquals(
        5.0, GradientChecks.globalNorm(grads(new float[] {3f}, new float[] {0f, 4f})), 1e-12);
    double norm = GradientChecks.globalNorm(grads(new float[] {big, big}));
    assertEquals(Math.sqrt(2) * big, norm, 1e-9 * norm);
    assertTrue(Double.isNaN(GradientChecks.globalNorm(grads(new float[] {Float.NaN}))));
  }

  private DataParallel.Gradient[] grads(float[]... values) {
    DataParallel.Gradient[] out = new DataParallel.Gradient[values.length];
    for (int i = 0; i < values.length; i++) {
      NDArray g = manager.create(values[i]);
      out[i] = new DataParallel.Gradient(g, List.of(g));
    }
    return out;
  }

  @Test
  void mallocTuningSetsGlibcThresholdsOrSaysItCannot() {
    boolean linux = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux");
    assumeTrue(linux, "mallopt is glibc's");
    assertTrue(MallocTuning.apply(), "mallopt accepted both thresholds");
  }

  @Test
  void mallocTuningPropertyIsOnOrOff() {
    String old = System.getProperty(MallocTuning.PROPERTY);
    try {
      System.clearProperty(MallocTuning.PROPERTY);
      assertFalse(MallocTuning.requestedByProperty());
      System.setProperty(MallocTuning.PROPERTY, " ON ");
      assertTrue(MallocTuning.requestedByProperty());
      System.setProperty(MallocTuning.PROPERTY, "yes");
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, MallocTuning::requestedByProperty);
      assertTrue(e.getMessage().contains("jdetect.mallopt"), e.getMessage());
    } finally {
      if (old == null) {
        System.clearProperty(MallocTuning.PROPERTY);
      } else {
        System.setProperty(MallocTuning.PROPERTY, old);
      }
    }
  }
}
