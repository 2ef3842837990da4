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
import ai.djl.util.Pair;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.FasterRcnnModels;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Faster R-CNN latency benchmark against torchvision in one run: eval latency of the VGG16
 * (600x800) and MobileNetV2 (800x800) configurations, the time split (transform / backbone / RPN /
 * RoI pooling / box head / post-processing) and, with {@code --train}, one SGD training step.
 *
 * <p>The torchvision reference runs {@code src/bench/rcnn_bench.py} with {@code /usr/bin/python3}
 * (torch + torchvision) in a subprocess after the jdetect measurements. Weights are random: this
 * measures speed, not accuracy. Both sides use {@code --threads} intra-op threads (default 2);
 * every figure is a median over {@code --iters} runs, and a table of ratios jdetect / torchvision
 * with the targets (end-to-end <= 1.0x, overhead = eval - backbone <= 0.5x) closes the output.
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.FasterRcnnBenchmark \
 *     -Dexec.args="--warmup 1 --iters 3 --train"
 * </pre>
 */
public final class FasterRcnnBenchmark {

  private static final String[] STAGES = {
    "transform", "backbone", "rpn", "roi_pooling", "box_head", "postprocess"
  };

  private FasterRcnnBenchmark() {}

  /** Command-line options. */
  static final class Options {
    int warmup = 1;
    int iters = 3;
    int threads = 2;
    String config = "all";
    boolean train;
    boolean reference = true;
    String python = "/usr/bin/python3";
    String script = "src/bench/rcnn_bench.py";
  }

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   * @throws Exception if the reference process fails to start
   */
  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    if (o == null) {
      return;
    }
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(o.threads));
    }
    List<Map<String, Object>> ours = new ArrayList<>();
    for (String name : new String[] {"vgg16", "mobilenet_v2"}) {
      if ("all".equals(o.config) || o.config.equals(name)) {
        ours.add(benchJdetect(name, o));
      }
    }
    List<String> reference = o.reference ? runReference(o) : List.of();
    System.out.println();
    System.out.println("== jdetect (DJL PyTorch engine " + Engine.getInstance().getVersion() + ")");
    for (Map<String, Object> r : ours) {
      System.out.println(format(r));
    }
    if (o.reference) {
      System.out.println("== torchvision (" + o.python + " " + o.script + ")");
      Map<String, JsonObject> theirs = new LinkedHashMap<>();
      for (String line : reference) {
        System.out.println(line);
        if (line.startsWith("{")) {
          JsonObject obj = JsonParser.parseString(line).getAsJsonObject();
          theirs.put(obj.get("config").getAsString(), obj);
        }
      }
      for (Map<String, Object> r : ours) {
        JsonObject t = theirs.get((String) r.get("config"));
        if (t != null) {
          compare(r, t);
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static void compare(Map<String, Object> ours, JsonObject theirs) {
    Map<String, Double> split = (Map<String, Double>) ours.get("split_ms");
    JsonObject ts = theirs.getAsJsonObject("split_ms");
    double eval = (Double) ours.get("eval_ms");
    double teval = theirs.get("eval_ms").getAsDouble();
    double overhead = eval - split.get("backbone");
    double toverhead = teval - ts.get("backbone").getAsDouble();
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "%s (%dx%d), medians in ms%n",
        ours.get("config"),
        (Integer) ours.get("height"),
        (Integer) ours.get("width"));
    System.out.printf(
        Locale.ROOT, "%-28s %12s %12s %8s%n", "median ms", "jdetect", "torchvision", "ratio");
    row("eval (batch 1)", eval, teval);
    row("overhead = eval - backbone", overhead, toverhead);
    for (String stage : STAGES) {
      row("  split: " + stage, split.get(stage), ts.get(stage).getAsDouble());
    }
    if (ours.containsKey("train_step_ms") && theirs.has("train_step_ms")) {
      row(
          "train step (batch 1)",
          (Double) ours.get("train_step_ms"),
          theirs.get("train_step_ms").getAsDouble());
    }
    System.out.printf(
        Locale.ROOT,
        "targets: end-to-end %.2fx (<= 1.0: %s), overhead %.2fx (<= 0.5: %s)%n",
        eval / teval,
        eval / teval <= 1.0 ? "met" : "NOT met",
        overhead / toverhead,
        overhead / toverhead <= 0.5 ? "met" : "NOT met");
  }

  private static void row(String name, double a, double b) {
    System.out.printf(Locale.ROOT, "%-28s %12.1f %12.1f %8.2f%n", name, a, b, a / b);
  }

  private static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  private static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--warmup":
          o.warmup = Integer.parseInt(args[++i]);
          break;
        case "--iters":
          o.iters = Integer.parseInt(args[++i]);
          break;
        case "--threads":
          o.threads = Integer.parseInt(args[++i]);
          break;
        case "--config":
          o.config = args[++i];
          break;
        case "--train":
          o.train = true;
          break;
        case "--no-reference":
          o.reference = false;
          break;
        case "--python":
          o.python = args[++i];
          break;
        case "--script":
          o.script = args[++i];
          break;
        case "--help":
        case "-h":
          System.out.println(
              "FasterRcnnBenchmark [--config all|vgg16|mobilenet_v2] [--warmup N] [--iters N]\n"
                  + "  [--train] [--threads N (reference)] [--no-reference]\n"
                  + "  [--python /usr/bin/python3] [--script src/bench/rcnn_bench.py]\n"
                  + "Eval latency, stage split and (with --train) one SGD step of Faster R-CNN,\n"
                  + "jdetect then torchvision. Random weights; set OMP_NUM_THREADS for both.");
          return null;
        default:
          throw new IllegalArgumentException("unknown option " + args[i] + " (try --help)");
      }
    }
    if (!List.of("all", "vgg16", "mobilenet_v2").contains(o.config)) {
      throw new IllegalArgumentException("--config must be all, vgg16 or mobilenet_v2");
    }
    if (o.iters < 1 || o.warmup < 0) {
      throw new IllegalArgumentException("--iters must be >= 1 and --warmup >= 0");
    }
    return o;
  }

  private static Map<String, Object> benchJdetect(String name, Options o) {
    boolean vgg = "vgg16".equals(name);
    int height = vgg ? 600 : 800;
    int width = 800;
    FasterRcnn model =
        vgg ? FasterRcnnModels.fasterRcnnVgg16(20) : FasterRcnnModels.fasterRcnnMobileNetV2(90);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("config", name);
    result.put("height", height);
    result.put("width", width);
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(0);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, height, width));
      ParameterStore ps = new ParameterStore(manager, false);
      for (int i = 0; i < o.warmup; i++) {
        evalOnce(manager, model, ps, height, width);
      }
      double[] evals = new double[o.iters];
      for (int i = 0; i < o.iters; i++) {
        evals[i] = evalOnce(manager, model, ps, height, width);
      }
      result.put("eval_ms", median(evals));
      double[][] stages = new double[STAGES.length][o.iters];
      for (int i = 0; i < o.iters; i++) {
        double[] t = splitOnce(manager, model, ps, height, width);
        for (int s = 0; s < STAGES.length; s++) {
          stages[s][i] = t[s];
        }
      }
      Map<String, Double> split = new LinkedHashMap<>();
      for (int s = 0; s < STAGES.length; s++) {
        split.put(STAGES[s], median(stages[s]));
      }
      result.put("split_ms", split);
      if (o.train) {
        for (Pair<String, Parameter> p : model.getParameters()) {
          if (p.getValue().requiresGradient()) {
            p.getValue().getArray().setRequiresGradient(true);
          }
        }
        for (int i = 0; i < Math.min(o.warmup, 1); i++) {
          trainStep(manager, model, ps, height, width);
        }
        double[] train = new double[o.iters];
        for (int i = 0; i < o.iters; i++) {
          train[i] = trainStep(manager, model, ps, height, width);
        }
        result.put("train_step_ms", median(train));
      }
    }
    return result;
  }

  private static NDArray image(NDManager manager, int height, int width) {
    return manager.randomUniform(0f, 1f, new Shape(3, height, width));
  }

  private static double evalOnce(
      NDManager manager, FasterRcnn model, ParameterStore ps, int height, int width) {
    try (NDManager it = manager.newSubManager()) {
      NDList images = new NDList(image(it, height, width));
      long start = System.nanoTime();
      List<Detections> d = model.detect(ps, images);
      d.get(0).boxes().toFloatArray();
      return (System.nanoTime() - start) / 1e6;
    }
  }

  private static double[] splitOnce(
      NDManager manager, FasterRcnn model, ParameterStore ps, int height, int width) {
    double[] t = new double[STAGES.length];
    try (NDManager it = manager.newSubManager()) {
      NDList images = new NDList(image(it, height, width));
      long s0 = System.nanoTime();
      ImageBatch batch = model.transform(images);
      long s1 = System.nanoTime();
      NDList features = model.features(ps, batch, false);
      long s2 = System.nanoTime();
      RegionProposalNetwork.Output rpn =
          model
              .getRpn()
              .propose(
                  ps,
                  features,
                  batch.imageSizes(),
                  batch.paddedHeight(),
                  batch.paddedWidth(),
                  false,
                  null);
      long s3 = System.nanoTime();
      RoiHeads heads = model.getRoiHeads();
      NDArray pooled = heads.pool(features, rpn.proposals(), batch.imageSizes());
      long s4 = System.nanoTime();
      NDList out = heads.predict(ps, pooled, false);
      long s5 = System.nanoTime();
      List<Detections> d =
          model
              .getTransform()
              .postprocess(
                  heads.postprocess(out.get(0), out.get(1), rpn.proposals(), batch.imageSizes()),
                  batch);
      d.get(0).boxes().toFloatArray();
      long s6 = System.nanoTime();
      long[] marks = {s0, s1, s2, s3, s4, s5, s6};
      for (int i = 0; i < STAGES.length; i++) {
        t[i] = (marks[i + 1] - marks[i]) / 1e6;
      }
    }
    return t;
  }

  private static double trainStep(
      NDManager manager, FasterRcnn model, ParameterStore ps, int height, int width) {
    try (NDManager it = manager.newSubManager()) {
      NDList images = new NDList(image(it, height, width));
      NDList targets =
          Targets.pad(
              it,
              List.of(
                  it.create(new float[] {50, 60, 300, 400, 320, 100, 600, 500}, new Shape(2, 4))),
              List.of(it.create(new long[] {1, 2})));
      long start = System.nanoTime();
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images, targets, null);
        NDArray sum = losses.get(0).add(losses.get(1)).add(losses.get(2)).add(losses.get(3));
        sum.attach(it);
        losses.attach(it);
        gc.backward(sum);
      }
      for (Pair<String, Parameter> p : model.getParameters()) {
        NDArray w = p.getValue().getArray();
        if (w.hasGradient()) {
          NDArray g = w.getGradient();
          w.subi(g.mul(1e-4f));
          // fill, not g.subi(g): NaN - NaN stays NaN and would poison every later step
          g.set(new NDIndex("..."), 0f);
        }
      }
      return (System.nanoTime() - start) / 1e6;
    }
  }

  private static List<String> runReference(Options o) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(o.python);
    cmd.add(o.script);
    cmd.add("--warmup");
    cmd.add(Integer.toString(o.warmup));
    cmd.add("--iters");
    cmd.add(Integer.toString(o.iters));
    cmd.add("--threads");
    cmd.add(Integer.toString(o.threads));
    cmd.add("--config");
    cmd.add(o.config);
    if (o.train) {
      cmd.add("--train");
    }
    Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
      }
    }
    int code = process.waitFor();
    if (code != 0) {
      lines.add("(reference exited with code " + code + ")");
    }
    return lines;
  }

  private static String format(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    for (Map.Entry<String, Object> e : r.entrySet()) {
      if (!first) {
        sb.append(", ");
      }
      first = false;
      sb.append('"').append(e.getKey()).append("\": ");
      Object v = e.getValue();
      if (v instanceof Map) {
        sb.append('{');
        boolean innerFirst = true;
        for (Map.Entry<?, ?> s : ((Map<?, ?>) v).entrySet()) {
          if (!innerFirst) {
            sb.append(", ");
          }
          innerFirst = false;
          sb.append('"').append(s.getKey()).append("\": ").append(number(s.getValue()));
        }
        sb.append('}');
      } else if (v instanceof String) {
        sb.append('"').append(v).append('"');
      } else {
        sb.append(number(v));
      }
    }
    return sb.append('}').toString();
  }

  private static String number(Object v) {
    if (v instanceof Double) {
      return String.format(Locale.ROOT, "%.1f", (Double) v);
    }
    return String.valueOf(v);
  }
}
