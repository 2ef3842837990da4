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
import com.google.gson.JsonParser;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.SsdLite;
import dev.jdetect.models.ssd.SsdModels;
import dev.jdetect.models.ssd.SsdTransform;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

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
 * <p>The torchvision peer is {@code src/bench/ssd_bench.py}, run with {@code /usr/bin/python3}
 * after the jdetect measurements of each model; medians are printed side by side with the ratio
 * jdetect / torchvision. Both sides use {@code --threads} intra-op threads.
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.SsdBenchmark \
 *     -Dexec.args="--warmup 3 --iters 10 --train-iters 5"
 * </pre>
 */
public final class SsdBenchmark {

  private static final String[] SPLIT = {"transform", "backbone", "head", "anchors", "postprocess"};

  private SsdBenchmark() {}

  /** Command-line options. */
  static final class Options {
    int warmup = 2;
    int iters = 10;
    int trainIters = 5;
    int threads = 2;
    boolean train = true;
    boolean reference = true;
    String model = "all";
    String python = "/usr/bin/python3";
    String script = "src/bench/ssd_bench.py";
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
   * @throws IOException if the reference script cannot be run
   * @throws InterruptedException if interrupted while waiting for it
   */
  public static void main(String[] args) throws IOException, InterruptedException {
    Options o = parse(args);
    if (o == null) {
      return;
    }
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(o.threads));
    }
    System.out.println(
        "SsdBenchmark: random weights, medians in ms ("
            + o.iters
            + " eval reps, "
            + o.trainIters
            + " train steps, "
            + o.threads
            + " threads, engine "
            + Engine.getInstance().getEngineName()
            + " "
            + Engine.getInstance().getVersion()
            + ")");
    List<String> models = o.model.equals("all") ? List.of("ssd300", "ssdlite") : List.of(o.model);
    for (String model : models) {
      boolean train = o.train && model.equals("ssd300");
      Result ours = runJdetect(model, train, o);
      Result theirs = null;
      String note = null;
      if (o.reference) {
        if (!Files.exists(Path.of(o.script))) {
          note = "reference script " + o.script + " not found (run from the repository root)";
        } else {
          try {
            theirs = runTorchvision(model, train, o);
          } catch (IOException e) {
            note = "torchvision reference failed: " + e.getMessage();
          }
        }
      }
      report(model, ours, theirs, train);
      if (note != null) {
        System.out.println("note: " + note);
      }
    }
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
      double[][] ms = rounds(o.warmup, o.iters, bodies);
      r.evalMs = median(ms[0]);
      for (int i = 0; i < SPLIT.length; i++) {
        r.splitMs[i] = median(ms[i + 1]);
      }
      r.backboneMs = r.splitMs[1];
      try (NDManager scope = manager.newSubManager()) {
        NDList out = ssd.forward(ps, new NDList(image), false);
        out.attach(scope);
        r.detections = Detections.fromNDList(out).get(0).size();
      }
      if (train) {
        r.trainMs = median(trainSteps(ssd, manager, ps, o));
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
        Math.min(o.warmup, 1),
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

  private static Result runTorchvision(String model, boolean train, Options o)
      throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                o.python,
                o.script,
                "--model",
                model,
                "--warmup",
                Integer.toString(o.warmup),
                "--iters",
                Integer.toString(o.iters),
                "--train-iters",
                Integer.toString(o.trainIters),
                "--threads",
                Integer.toString(o.threads)));
    if (!train) {
      cmd.add("--no-train");
    }
    System.out.println("torchvision: " + String.join(" ", cmd));
    Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String json = null;
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("{")) {
          json = line;
        } else if (!line.contains("UserWarning") && !line.isBlank()) {
          System.out.println("[python] " + line);
        }
      }
    }
    int code = process.waitFor();
    if (code != 0 || json == null) {
      throw new IOException("exit code " + code + (json == null ? ", no JSON result" : ""));
    }
    JsonObject obj = JsonParser.parseString(json).getAsJsonObject();
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

  private static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n == 0 ? Double.NaN : (n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
  }

  private static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--help":
        case "-h":
          System.out.println(
              String.join(
                  "\n",
                  "SsdBenchmark: SSD300-VGG16 and SSDlite320-MobileNetV2 eval latency (batch 1),",
                  "backbone-only time, detection overhead, per-stage split and the SSD300 SGD",
                  "train step (batch 4) against torchvision, random weights.",
                  "",
                  "  --model M         ssd300, ssdlite or all (default all)",
                  "  --warmup N        warm-up calls before timing (default 2)",
                  "  --iters N         timed eval / backbone calls (default 10)",
                  "  --train-iters N   timed train steps (default 5)",
                  "  --threads N       intra-op threads on both sides (default 2)",
                  "  --no-train        skip the train step",
                  "  --no-reference    skip torchvision",
                  "  --python PATH     Python with torch + torchvision (default /usr/bin/python3)",
                  "  --script PATH     reference script (default src/bench/ssd_bench.py)"));
          return null;
        case "--warmup":
          o.warmup = intValue(args, ++i, a);
          break;
        case "--iters":
          o.iters = intValue(args, ++i, a);
          break;
        case "--train-iters":
          o.trainIters = intValue(args, ++i, a);
          break;
        case "--threads":
          o.threads = intValue(args, ++i, a);
          break;
        case "--model":
          o.model = value(args, ++i, a);
          if (!List.of("ssd300", "ssdlite", "all").contains(o.model)) {
            throw new IllegalArgumentException("--model must be ssd300, ssdlite or all");
          }
          break;
        case "--no-train":
          o.train = false;
          break;
        case "--no-reference":
          o.reference = false;
          break;
        case "--python":
          o.python = value(args, ++i, a);
          break;
        case "--script":
          o.script = value(args, ++i, a);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + a + " (see --help)");
      }
    }
    if (o.warmup < 0 || o.iters < 1 || o.trainIters < 1 || o.threads < 1) {
      throw new IllegalArgumentException(
          "need --warmup >= 0, --iters >= 1, --train-iters >= 1, --threads >= 1");
    }
    return o;
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return args[i];
  }

  private static int intValue(String[] args, int i, String name) {
    String v = value(args, i, name);
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs an integer, got " + v, e);
    }
  }
}
