package dev.jdetect.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import com.google.gson.JsonObject;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.SsdLite;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.models.ssd.SsdTransform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * SSD benchmarks against torchvision in one run, random weights on both sides, 91 classes including
 * background: SSD300-VGG16 ({@code ssd300}) and SSDlite320 on MobileNetV2 ({@code ssdlite}; the
 * torchvision side builds the same network from torchvision's SSD, SSDLiteHead and MobileNetV2
 * classes).
 *
 * <ul>
 *   <li>{@code eval}: full inference at batch 1 on an image of the model size (transform, backbone,
 *       head, default boxes, post-processing);
 *   <li>{@code backbone}: the feature extractor alone on the normalised input;
 *   <li>{@code overhead}: eval minus backbone, the detection-specific cost;
 *   <li>split: transform, head, default-box generation (jdetect caches the boxes per input size, so
 *       eval does not pay it after the first call) and post-processing, each timed alone;
 *   <li>{@code train} (SSD300 only): one SGD step (momentum 0.9) at batch 4 with 1-3 random boxes
 *       per image.
 * </ul>
 *
 * <p>The torchvision peer is {@code src/bench/ssd_bench.py}, run through {@link PythonPeer} with
 * {@code /usr/bin/python3} after the jdetect measurements of each model; medians are printed side
 * by side with the ratio jdetect / torchvision. Both sides use {@code --threads} intra-op threads.
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.SsdBenchmark \
 *     -Dexec.args="--warmup 3 --iters 10 --train-iters 5"
 * </pre>
 */
@Command(
    name = "SsdBenchmark",
    description = {
      "SSD300-VGG16 and SSDlite320-MobileNetV2 eval latency (batch 1), backbone-only time,"
          + " detection overhead, per-stage split and the SSD300 SGD train step (batch 4) against"
          + " torchvision, random weights on both sides."
    })
public final class SsdBenchmark implements Callable<Integer> {

  private static final String[] SPLIT = {"transform", "backbone", "head", "anchors", "postprocess"};

  @Mixin Options o = new Options();

  private SsdBenchmark() {}

  /** The models the benchmark can time. */
  enum Which {
    /** SSD300-VGG16. */
    SSD300,
    /** SSDlite320 on MobileNetV2. */
    SSDLITE,
    /** Both. */
    ALL
  }

  /** Command-line options. */
  static final class Options {
    @Mixin TimingOptions timing = new TimingOptions(2, 10);

    @Mixin PeerOptions peer = new PeerOptions("src/bench/ssd_bench.py");

    @Option(names = "--model", paramLabel = "NAME", description = "ssd300, ssdlite or all.")
    Which model = Which.ALL;

    @Option(
        names = "--train-iters",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Timed SSD300 train steps.")
    int trainIters = 5;

    @Option(names = "--no-train", description = "Skip the train step.")
    boolean noTrain;
  }

  /** Medians of one model. */
  static final class Result {
    double evalMs;
    double backboneMs;
    double trainMs = Double.NaN;
    double[] splitMs = new double[SPLIT.length];
    int detections;
  }

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(SsdBenchmark.class, args);
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    o.timing.applyThreads();
    System.out.println(
        "SsdBenchmark: random weights, medians in ms ("
            + o.timing.iters
            + " eval reps, "
            + o.trainIters
            + " train steps, "
            + o.timing.threads
            + " threads, engine "
            + Engine.getInstance().getEngineName()
            + " "
            + Engine.getInstance().getVersion()
            + ")");
    List<String> models =
        o.model == Which.ALL
            ? List.of("ssd300", "ssdlite")
            : List.of(o.model.name().toLowerCase(Locale.ROOT));
    try (PythonPeer python = PythonPeer.open(o.peer, null)) {
      String problem = o.peer.reference() ? python.problem() : null;
      for (String model : models) {
        boolean train = !o.noTrain && model.equals("ssd300");
        Result ours = runJdetect(model, train, o);
        Result theirs = null;
        String note = problem == null ? null : "torchvision reference " + problem;
        if (o.peer.reference() && problem == null) {
          try {
            theirs = runTorchvision(python, model, train, o);
          } catch (IOException e) {
            note = "torchvision reference failed: " + e.getMessage();
          }
        }
        report(model, ours, theirs, train);
        if (note != null) {
          System.out.println("note: " + note);
        }
      }
    }
    return 0;
  }

  private static Ssd build(String model) {
    return model.equals("ssd300") ? SsdModels.ssd300Vgg16(90) : SsdLite.mobileNetV2(90);
  }

  private static Result runJdetect(String model, boolean train, Options o) {
    Result r = new Result();
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd ssd = build(model);
      SsdTransform transform = ssd.transform();
      // the model input size, whatever size the images come in
      Shape input = transform.inputShape(new Shape(1, 3, 1, 1));
      int h = (int) input.get(2);
      int w = (int) input.get(3);
      ssd.initialize(manager, DataType.FLOAT32, new Shape(1, 3, h, w));
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray image = manager.randomUniform(0f, 1f, new Shape(1, 3, h, w));
      NDArray normalised = transform.apply(image);
      NDList features = ssd.backbone().forward(ps, new NDList(normalised), false);
      List<Shape> shapes = new ArrayList<>();
      for (NDArray f : features) {
        shapes.add(new Shape(f.getShape().get(2), f.getShape().get(3)));
      }
      NDList raw = ssd.forwardHeads(ps, image, false);
      // One round times every measurement once; rounds repeat, so a burst of load from other
      // processes hits eval and its parts alike instead of skewing one of them.
      List<Runnable> bodies =
          List.of(
              () -> {
                try (NDManager scope = manager.newSubManager()) {
                  NDList out = ssd.forward(ps, new NDList(image), false);
                  out.attach(scope);
                  out.get(1).toFloatArray();
                }
              },
              () -> {
                try (NDManager scope = manager.newSubManager()) {
                  NDArray x = transform.apply(image);
                  x.attach(scope);
                  x.get(0, 0, 0).toFloatArray();
                }
              },
              () -> {
                try (NDManager scope = manager.newSubManager()) {
                  NDList out = ssd.backbone().forward(ps, new NDList(normalised), false);
                  out.attach(scope);
                  out.get(out.size() - 1).toFloatArray();
                }
              },
              () -> {
                try (NDManager scope = manager.newSubManager()) {
                  NDList out = ssd.head().forward(ps, features, false);
                  out.attach(scope);
                  out.get(1).get(0, 0).toFloatArray();
                }
              },
              () -> {
                try (NDManager scope = manager.newSubManager()) {
                  NDArray a = ssd.anchorGenerator().generate(scope, shapes, h, w);
                  a.attach(scope);
                  a.get(0).toFloatArray();
                }
              },
              () -> {
                try (NDManager scope = manager.newSubManager()) {
                  List<Detections> d =
                      ssd.postProcessor().process(raw.get(0), raw.get(1), raw.get(2), h, w, h, w);
                  NDList out = Detections.toNDList(d);
                  out.attach(scope);
                  out.get(1).toFloatArray();
                }
              });
      double[][] ms = rounds(o.timing.warmup, o.timing.iters, bodies);
      r.evalMs = Timings.median(ms[0]);
      for (int i = 0; i < SPLIT.length; i++) {
        r.splitMs[i] = Timings.median(ms[i + 1]);
      }
      r.backboneMs = r.splitMs[1];
      try (NDManager scope = manager.newSubManager()) {
        NDList out = ssd.forward(ps, new NDList(image), false);
        out.attach(scope);
        r.detections = Detections.fromNDList(out).get(0).size();
      }
      if (train) {
        r.trainMs = Timings.median(trainSteps(ssd, manager, ps, o));
      }
    }
    System.out.printf(
        Locale.ROOT, "jdetect %s: %d detections on the random image%n", model, r.detections);
    return r;
  }

  private static double[] trainSteps(Ssd ssd, NDManager manager, ParameterStore ps, Options o) {
    NDArray images = manager.randomUniform(0f, 1f, new Shape(4, 3, 300, 300));
    Random random = new Random(1);
    List<NDArray> boxes = new ArrayList<>();
    List<NDArray> labels = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int n = 1 + i % 3;
      float[][] b = new float[n][];
      long[] l = new long[n];
      for (int j = 0; j < n; j++) {
        float x = random.nextFloat() * 200;
        float y = random.nextFloat() * 200;
        b[j] =
            new float[] {x, y, x + 20 + random.nextFloat() * 80, y + 20 + random.nextFloat() * 80};
        l[j] = 1 + random.nextInt(90);
      }
      boxes.add(manager.create(b));
      labels.add(manager.create(l));
    }
    NDList targets = Targets.pad(manager, boxes, labels);
    Optimizer sgd =
        Optimizer.sgd().setLearningRateTracker(Tracker.fixed(1e-4f)).optMomentum(0.9f).build();
    List<Parameter> params = new ArrayList<>();
    for (Pair<String, Parameter> p : ssd.getParameters()) {
      if (p.getValue().requiresGradient()) {
        params.add(p.getValue());
      }
    }
    return time(
        Math.min(o.timing.warmup, 1),
        o.trainIters,
        () -> {
          try (NDManager scope = manager.newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDList losses = ssd.forward(ps, new NDList(images), targets, null);
              losses.attach(scope);
              gc.backward(losses.get(0).add(losses.get(1)));
            }
            for (Parameter p : params) {
              NDArray w = p.getArray();
              NDArray grad = w.getGradient();
              sgd.update(p.getId(), w, grad);
              // fill, not grad.subi(grad): NaN - NaN stays NaN and would poison every later step
              grad.set(new NDIndex("..."), 0f);
            }
          }
        });
  }

  private static Result runTorchvision(PythonPeer python, String model, boolean train, Options o)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(o.timing.peerArgs());
    args.addAll(List.of("--model", model, "--train-iters", Integer.toString(o.trainIters)));
    if (!train) {
      args.add("--no-train");
    }
    System.out.println("torchvision: " + String.join(" ", args));
    JsonObject obj = python.call(args);
    System.out.printf(
        Locale.ROOT,
        "torchvision %s: %d detections on its random image, torch %s%n",
        model,
        obj.get("detections").getAsInt(),
        obj.get("torch").getAsString());
    Result res = new Result();
    res.evalMs = obj.get("eval_ms").getAsDouble();
    res.backboneMs = obj.get("backbone_ms").getAsDouble();
    res.trainMs = obj.has("train_ms") ? obj.get("train_ms").getAsDouble() : Double.NaN;
    JsonObject split = obj.getAsJsonObject("split_ms");
    for (int i = 0; i < SPLIT.length; i++) {
      res.splitMs[i] =
          split != null && split.has(SPLIT[i]) ? split.get(SPLIT[i]).getAsDouble() : Double.NaN;
    }
    return res;
  }

  private static void report(String model, Result ours, Result theirs, boolean train) {
    List<String> rows = new ArrayList<>();
    List<double[]> values = new ArrayList<>();
    rows.add("eval (batch 1)");
    values.add(pair(ours.evalMs, theirs == null ? Double.NaN : theirs.evalMs));
    rows.add("backbone (batch 1)");
    values.add(pair(ours.backboneMs, theirs == null ? Double.NaN : theirs.backboneMs));
    rows.add("overhead = eval - backbone");
    values.add(
        pair(
            ours.evalMs - ours.backboneMs,
            theirs == null ? Double.NaN : theirs.evalMs - theirs.backboneMs));
    for (int i = 0; i < SPLIT.length; i++) {
      if (i == 1) {
        continue;
      }
      rows.add("  split: " + SPLIT[i] + (i == 3 ? " (gen.)" : ""));
      values.add(pair(ours.splitMs[i], theirs == null ? Double.NaN : theirs.splitMs[i]));
    }
    if (train) {
      rows.add("train step (batch 4)");
      values.add(pair(ours.trainMs, theirs == null ? Double.NaN : theirs.trainMs));
    }
    System.out.println();
    System.out.println(
        model.equals("ssd300") ? "SSD300-VGG16 (300x300)" : "SSDlite320-MobileNetV2 (320x320)");
    System.out.printf(
        Locale.ROOT, "%-28s %12s %12s %8s%n", "median ms", "jdetect", "torchvision", "ratio");
    for (int i = 0; i < rows.size(); i++) {
      double[] v = values.get(i);
      if (Double.isNaN(v[1])) {
        System.out.printf(Locale.ROOT, "%-28s %12.2f %12s %8s%n", rows.get(i), v[0], "-", "-");
      } else {
        System.out.printf(
            Locale.ROOT, "%-28s %12.2f %12.2f %8.2f%n", rows.get(i), v[0], v[1], v[0] / v[1]);
      }
    }
    if (theirs != null) {
      double e = ours.evalMs / theirs.evalMs;
      double ov = (ours.evalMs - ours.backboneMs) / (theirs.evalMs - theirs.backboneMs);
      System.out.printf(
          Locale.ROOT,
          "targets: end-to-end %.2fx (<= 1.0: %s), overhead %.2fx (<= 0.5: %s)%n",
          e,
          e <= 1.0 ? "met" : "NOT met",
          ov,
          ov <= 0.5 ? "met" : "NOT met");
    }
  }

  private static double[] pair(double a, double b) {
    return new double[] {a, b};
  }

  private static double[][] rounds(int warmup, int iters, List<Runnable> bodies) {
    double[][] ms = new double[bodies.size()][iters];
    for (int i = -warmup; i < iters; i++) {
      for (int b = 0; b < bodies.size(); b++) {
        long t0 = System.nanoTime();
        bodies.get(b).run();
        if (i >= 0) {
          ms[b][i] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    return ms;
  }

  private static double[] time(int warmup, int iters, Runnable body) {
    for (int i = 0; i < warmup; i++) {
      body.run();
    }
    double[] ms = new double[iters];
    for (int i = 0; i < iters; i++) {
      long t0 = System.nanoTime();
      body.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    return ms;
  }
}
