package dev.jdetect.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.FasterRcnnModels;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.models.weights.WeightImportException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Faster R-CNN latency benchmark against torchvision in one run: eval latency of the VGG16
 * (600x800) and MobileNetV2 (800x800) configurations, the time split (transform / backbone / RPN /
 * RoI pooling / box head / post-processing) and, with {@code --train}, one SGD training step.
 *
 * <p>The torchvision reference is {@code src/bench/rcnn_bench.py}, run with {@code
 * /usr/bin/python3} (torch + torchvision) through {@link PythonPeer}. By default both sides run the
 * same weights on the same image: the reference first exports its seeded random initialisation and
 * its random image into the exchange folder, jdetect imports them with {@link WeightImport}
 * (strict: every name must map), both are timed, and the outputs of one pass of every stage
 * (normalised batch, backbone features, RPN proposals, box head outputs, detections) are compared.
 * With random weights the number of proposals surviving the RPN's NMS differs between the two
 * sides, and the box head's cost scales with it, so only shared weights compare equal work. {@code
 * --random-weights} (or {@code --no-reference}) restores independent random initialisations.
 *
 * <p>Both sides use {@code --threads} intra-op threads (default 2); every figure is a median over
 * {@code --iters} runs, and a table of ratios jdetect / torchvision with the targets (end-to-end <=
 * 1.0x, overhead = eval - backbone <= 0.5x) closes the output. The VGG16 state dict is about 550
 * MB: give the JVM a few GB of heap ({@code -Xmx8g}).
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.FasterRcnnBenchmark \
 *     -Dexec.args="--warmup 1 --iters 3 --train"
 * </pre>
 */
@Command(
    name = "FasterRcnnBenchmark",
    description = {
      "Faster R-CNN eval latency, stage split and (with --train) one SGD step, jdetect then"
          + " torchvision, on the same weights and image (exported by the reference into the"
          + " exchange folder), with a stage-by-stage comparison of the outputs."
    })
public final class FasterRcnnBenchmark implements Callable<Integer> {

  private static final String[] STAGES = {
    "transform", "backbone", "rpn", "roi_pooling", "box_head", "postprocess"
  };

  /** Stage outputs compared between the two sides, in pipeline order. */
  private static final String[][] OUTPUTS = {
    {"batch", "transform: normalised, padded image"},
    {"features", "backbone: feature map"},
    {"proposals", "rpn: proposals (boxes)"},
    {"proposal_scores", "rpn: proposal objectness"},
    {"class_logits", "box head: class logits"},
    {"box_regression", "box head: box deltas"},
    {"boxes", "detections: boxes"},
    {"scores", "detections: scores"},
    {"labels", "detections: labels"}
  };

  /** Relative tolerance (of the stage's largest reference magnitude) for "agree". */
  private static final double RTOL = 1e-4;

  /** Absolute tolerance for "agree" (only matters when a whole stage is about zero). */
  private static final double ATOL = 1e-12;

  private FasterRcnnBenchmark() {}

  /** Command-line options. */
  static final class Options {
    @Mixin TimingOptions timing = new TimingOptions(1, 3);

    @Mixin PeerOptions peer = new PeerOptions("src/bench/rcnn_bench.py");

    @Option(
        names = "--config",
        paramLabel = "NAME",
        description = "vgg16 (600x800), mobilenet_v2 (800x800) or all.")
    Config config = Config.ALL;

    @Option(names = "--train", description = "Also time one SGD training step.")
    boolean train;

    @Option(
        names = "--random-weights",
        description =
            "Each side uses its own random weights and image (implied by --no-reference); by"
                + " default both run torchvision's exported weights on the same image and the"
                + " outputs of every stage are compared.")
    boolean randomWeights;

    @Option(
        names = "--work-dir",
        paramLabel = "DIR",
        description = "Exchange folder to keep (default: a temporary one, deleted at the end).")
    Path workDir;

    boolean sharedWeights() {
      return peer.reference() && !randomWeights;
    }

    boolean runs(String name) {
      return config == Config.ALL || config.name().equalsIgnoreCase(name);
    }
  }

  /** The configurations the benchmark can time. */
  enum Config {
    /** VGG16, 600x800. */
    VGG16,
    /** MobileNetV2, 800x800. */
    MOBILENET_V2,
    /** Both. */
    ALL
  }

  /** One stage output of one side: values as float32 and the shape. */
  static final class Tensor {
    final float[] values;
    final long[] shape;

    Tensor(NDArray array) {
      this(array.toType(DataType.FLOAT32, false).toFloatArray(), array.getShape().getShape());
    }

    Tensor(float[] values, long[] shape) {
      this.values = values;
      this.shape = shape;
    }

    /** Returns the rows in the given order. */
    Tensor permuteRows(int[] order) {
      int len = rowLength();
      float[] out = new float[values.length];
      for (int i = 0; i < order.length; i++) {
        System.arraycopy(values, order[i] * len, out, i * len, len);
      }
      return new Tensor(out, shape);
    }

    long rows() {
      return shape.length == 0 ? 1 : shape[0];
    }

    int rowLength() {
      return shape.length == 0 || shape[0] == 0 ? values.length : (int) (values.length / shape[0]);
    }
  }

  @Mixin Options o = new Options();

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(FasterRcnnBenchmark.class, args);
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    o.timing.applyThreads();
    try (PythonPeer python = PythonPeer.open(o.peer, o.workDir)) {
      String problem = o.peer.reference() ? python.problem() : null;
      if (problem != null) {
        throw new IOException(
            "torchvision reference " + problem + " (pass --no-reference to time jdetect alone)");
      }
      run(o, python);
    }
    return 0;
  }

  private static void run(Options o, PythonPeer python) throws IOException, InterruptedException {
    Path dir = o.sharedWeights() ? python.dir() : null;
    if (dir != null) {
      System.out.println("exporting torchvision's weights and images to " + dir);
      python.call(peerArgs(o, "--export"));
    } else if (o.peer.reference()) {
      System.out.println(
          "random weights: each side uses its own initialisation and image (no correctness check)");
    } else {
      System.out.println("no reference: jdetect only, random weights and images");
    }
    List<Map<String, Object>> ours = new ArrayList<>();
    Map<String, Map<String, Tensor>> ourOutputs = new LinkedHashMap<>();
    for (String name : new String[] {"vgg16", "mobilenet_v2"}) {
      if (o.runs(name)) {
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        ours.add(benchJdetect(name, o, dir, outputs));
        ourOutputs.put(name, outputs);
      }
    }
    JsonObject reference = null;
    if (o.peer.reference()) {
      reference = python.call(peerArgs(o, dir != null ? "--weights" : null));
    }
    System.out.println();
    System.out.println("== jdetect (DJL PyTorch engine " + Engine.getInstance().getVersion() + ")");
    for (Map<String, Object> r : ours) {
      System.out.println(format(r));
    }
    if (reference == null) {
      return;
    }
    System.out.println("== torchvision (" + o.peer.python + " " + o.peer.script + ")");
    Map<String, JsonObject> theirs = new LinkedHashMap<>();
    for (JsonElement e : reference.getAsJsonArray("configs")) {
      JsonObject obj = e.getAsJsonObject();
      System.out.println(obj);
      theirs.put(obj.get("config").getAsString(), obj);
    }
    for (Map<String, Object> r : ours) {
      String name = (String) r.get("config");
      JsonObject t = theirs.get(name);
      if (t == null) {
        System.out.println();
        System.out.println(name + ": no reference result");
        continue;
      }
      compare(r, t);
      if (dir != null) {
        checkOutputs(name, ourOutputs.get(name), dir.resolve(name + "_peer.npz"));
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
        "%s (%dx%d), %s weights, medians in ms%n",
        ours.get("config"),
        (Integer) ours.get("height"),
        (Integer) ours.get("width"),
        ours.get("weights"));
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
    countRow("proposals / image (RPN)", ours.get("proposals"), theirs.get("proposals"));
    countRow("detections / image", ours.get("detections"), theirs.get("detections"));
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

  private static void countRow(String name, Object ours, Object theirs) {
    System.out.printf(
        Locale.ROOT,
        "%-28s %12s %12s%n",
        name,
        ours == null ? "-" : ours.toString(),
        theirs == null ? "-" : theirs.toString());
  }

  /**
   * Compares jdetect's stage outputs with the reference's, stage by stage, and prints one line per
   * stage and a verdict naming the first stage that differs.
   */
  private static void checkOutputs(String name, Map<String, Tensor> ours, Path peerFile)
      throws IOException {
    System.out.println("correctness (" + name + ", same weights and image, one pass):");
    if (!Files.isRegularFile(peerFile)) {
      System.out.println("  no reference outputs in " + peerFile + "; cannot compare");
      return;
    }
    Map<String, Tensor> theirs = new LinkedHashMap<>();
    try (NDManager manager = NDManager.newBaseManager();
        InputStream is = new BufferedInputStream(Files.newInputStream(peerFile))) {
      for (NDArray a : NDList.decode(manager, is)) {
        theirs.put(a.getName(), new Tensor(a));
      }
    }
    // Both sides sort proposals and detections by score; rows of equal score may come in either
    // order, so compare them in a canonical order (score descending, then box coordinates).
    String[][] groups = {
      {"proposal_scores", "proposals", "class_logits", "box_regression"},
      {"scores", "boxes", "labels"}
    };
    for (String[] group : groups) {
      int oursMoved = canonicalize(ours, group);
      int theirsMoved = canonicalize(theirs, group);
      if (oursMoved > 0 || theirsMoved > 0) {
        System.out.printf(
            Locale.ROOT,
            "  (%s compared in canonical order: %d jdetect and %d torchvision rows moved,"
                + " ties in score)%n",
            group[1],
            oursMoved,
            theirsMoved);
      }
    }
    String firstDifference = null;
    for (String[] output : OUTPUTS) {
      Tensor a = ours.get(output[0]);
      Tensor b = theirs.get(output[0]);
      if (a == null || b == null) {
        System.out.printf(Locale.ROOT, "  %-38s missing on one side%n", output[1]);
        continue;
      }
      String verdict = compareTensors(a, b);
      System.out.printf(Locale.ROOT, "  %-38s %s%n", output[1], verdict);
      if (firstDifference == null && !verdict.startsWith("agree")) {
        firstDifference = output[1];
      }
    }
    if (firstDifference == null) {
      System.out.printf(
          Locale.ROOT,
          "  => proposals and detections agree (%d proposals, %d detections)%n",
          ours.get("proposals").rows(),
          ours.get("boxes").rows());
    } else {
      System.out.println("  => FIRST DIFFERENCE at " + firstDifference);
    }
  }

  /**
   * Reorders one side's rows of a group (score descending, ties by the box coordinates) in place.
   *
   * @param outputs the side's outputs
   * @param group the score name, the box name, then the other outputs whose rows follow them
   * @return how many rows changed position, 0 if the group is incomplete
   */
  private static int canonicalize(Map<String, Tensor> outputs, String[] group) {
    Tensor scores = outputs.get(group[0]);
    Tensor boxes = outputs.get(group[1]);
    if (scores == null || boxes == null || boxes.rows() != scores.values.length) {
      return 0;
    }
    int n = scores.values.length;
    int len = boxes.rowLength();
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(
        idx,
        (x, y) -> {
          int c = Float.compare(scores.values[y], scores.values[x]);
          for (int j = 0; c == 0 && j < len; j++) {
            c = Float.compare(boxes.values[x * len + j], boxes.values[y * len + j]);
          }
          return c;
        });
    int[] order = new int[n];
    int moved = 0;
    for (int i = 0; i < n; i++) {
      order[i] = idx[i];
      if (order[i] != i) {
        moved++;
      }
    }
    if (moved > 0) {
      for (int k = 0; k < group.length; k++) {
        Tensor t = outputs.get(group[k]);
        if (t != null && t.rows() == n) {
          outputs.put(group[k], t.permuteRows(order));
        }
      }
    }
    return moved;
  }

  /**
   * Compares two row-ordered outputs: on equal shapes the largest absolute difference; otherwise
   * the shape mismatch and how many leading rows agree.
   */
  private static String compareTensors(Tensor a, Tensor b) {
    double scale = 0;
    for (float v : b.values) {
      scale = Math.max(scale, Math.abs(v));
    }
    double tol = ATOL + RTOL * scale;
    if (Arrays.equals(a.shape, b.shape)) {
      double max = 0;
      for (int i = 0; i < a.values.length; i++) {
        max = Math.max(max, Math.abs((double) a.values[i] - b.values[i]));
      }
      boolean agree = max <= tol && !Double.isNaN(max);
      return String.format(
          Locale.ROOT,
          "%s: shape %s, max |diff| %.3g (max |ref| %.3g, tol %.2g)",
          agree ? "agree" : "DIFFER",
          Arrays.toString(a.shape),
          max,
          scale,
          tol);
    }
    StringBuilder sb =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "DIFFER: shape jdetect %s vs torchvision %s",
                Arrays.toString(a.shape),
                Arrays.toString(b.shape)));
    if (a.shape.length == b.shape.length && a.rowLength() == b.rowLength() && a.rowLength() > 0) {
      int len = a.rowLength();
      long common = Math.min(a.rows(), b.rows());
      long firstRow = common;
      double max = 0;
      for (long r = 0; r < common; r++) {
        double rowMax = 0;
        for (int j = 0; j < len; j++) {
          int k = (int) (r * len + j);
          rowMax = Math.max(rowMax, Math.abs((double) a.values[k] - b.values[k]));
        }
        if (rowMax > tol && firstRow == common) {
          firstRow = r;
        }
        max = Math.max(max, rowMax);
      }
      sb.append(
          String.format(
              Locale.ROOT,
              "; first %d of %d common rows agree, max |diff| over common rows %.3g",
              firstRow,
              common,
              max));
    }
    return sb.toString();
  }

  private static Map<String, Object> benchJdetect(
      String name, Options o, Path dir, Map<String, Tensor> outputs) throws IOException {
    boolean vgg = "vgg16".equals(name);
    int height = vgg ? 600 : 800;
    int width = 800;
    FasterRcnn model =
        vgg ? FasterRcnnModels.fasterRcnnVgg16(20) : FasterRcnnModels.fasterRcnnMobileNetV2(90);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("config", name);
    result.put("height", height);
    result.put("width", width);
    result.put("weights", dir == null ? "random" : "shared");
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(0);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, height, width));
      NDArray fixedImage = null;
      if (dir != null) {
        importWeights(model, name, dir);
        fixedImage = readImage(manager, dir.resolve(name + "_image.npz"), height, width);
      }
      ParameterStore ps = new ParameterStore(manager, false);
      for (int i = 0; i < o.timing.warmup; i++) {
        evalOnce(manager, model, ps, fixedImage, height, width);
      }
      double[] evals = new double[o.timing.iters];
      for (int i = 0; i < o.timing.iters; i++) {
        evals[i] = evalOnce(manager, model, ps, fixedImage, height, width);
      }
      result.put("eval_ms", Timings.median(evals));
      double[][] stages = new double[STAGES.length][o.timing.iters];
      for (int i = 0; i < o.timing.iters; i++) {
        double[] t = splitOnce(manager, model, ps, fixedImage, height, width, null);
        for (int s = 0; s < STAGES.length; s++) {
          stages[s][i] = t[s];
        }
      }
      Map<String, Double> split = new LinkedHashMap<>();
      for (int s = 0; s < STAGES.length; s++) {
        split.put(STAGES[s], Timings.median(stages[s]));
      }
      result.put("split_ms", split);
      splitOnce(manager, model, ps, fixedImage, height, width, outputs);
      result.put("proposals", outputs.get("proposals").rows());
      result.put("detections", outputs.get("boxes").rows());
      if (o.train) {
        for (Pair<String, Parameter> p : model.getParameters()) {
          if (p.getValue().requiresGradient()) {
            p.getValue().getArray().setRequiresGradient(true);
          }
        }
        for (int i = 0; i < Math.min(o.timing.warmup, 1); i++) {
          trainStep(manager, model, ps, fixedImage, height, width);
        }
        double[] train = new double[o.timing.iters];
        for (int i = 0; i < o.timing.iters; i++) {
          train[i] = trainStep(manager, model, ps, fixedImage, height, width);
        }
        result.put("train_step_ms", Timings.median(train));
      }
    }
    return result;
  }

  /**
   * Loads the reference's state dict into the model, strictly. The reference's backbone is
   * torchvision's bare {@code features} Sequential ({@code backbone.N.*}), while jdetect's {@code
   * Vgg16} / {@code MobileNetV2} hold it as their child {@code features}, as torchvision's {@code
   * vgg16()} / {@code mobilenet_v2()} modules do ({@code backbone.features.N.*}); that prefix is
   * the only renaming.
   */
  private static void importWeights(FasterRcnn model, String name, Path dir) throws IOException {
    Path file = dir.resolve(name + ".npz");
    WeightImport importer =
        WeightImport.builder()
            .optRename(
                key ->
                    key.startsWith("backbone.")
                        ? "backbone.features." + key.substring("backbone.".length())
                        : key)
            .build();
    try (NDManager scope = NDManager.newBaseManager()) {
      StateDict stateDict = StateDict.load(scope, file);
      long moved = stateDict.names().stream().filter(k -> k.startsWith("backbone.")).count();
      ImportReport report;
      try {
        report = importer.apply(model, stateDict);
      } catch (WeightImportException e) {
        ImportReport r = e.report();
        System.out.println(name + ": the reference's state dict does not map onto jdetect's model");
        System.out.println("  missing in file (" + r.missing().size() + "): " + r.missing());
        System.out.println(
            "  unexpected in file (" + r.unexpected().size() + "): " + r.unexpected());
        System.out.println("  mis-shaped (" + r.misshaped().size() + "): " + r.misshaped());
        throw e;
      }
      System.out.printf(
          Locale.ROOT,
          "%s: imported %s from %s (%d backbone.* names read as backbone.features.*)%n",
          name,
          report,
          file.getFileName(),
          moved);
    }
  }

  private static NDArray readImage(NDManager manager, Path file, int height, int width)
      throws IOException {
    try (InputStream is = new BufferedInputStream(Files.newInputStream(file))) {
      NDList list = NDList.decode(manager, is);
      NDArray image = list.get("image");
      Shape want = new Shape(3, height, width);
      if (image == null || !image.getShape().equals(want)) {
        throw new IllegalStateException(
            file + ": expected an array 'image' of shape " + want + ", got " + list);
      }
      return image.toType(DataType.FLOAT32, false);
    }
  }

  private static NDArray image(NDManager it, NDArray fixedImage, int height, int width) {
    if (fixedImage != null) {
      return fixedImage;
    }
    return it.randomUniform(0f, 1f, new Shape(3, height, width));
  }

  private static double evalOnce(
      NDManager manager,
      FasterRcnn model,
      ParameterStore ps,
      NDArray fixedImage,
      int height,
      int width) {
    try (NDManager it = manager.newSubManager()) {
      NDList images = new NDList(image(it, fixedImage, height, width));
      long start = System.nanoTime();
      List<Detections> d = model.detect(ps, images);
      d.get(0).boxes().toFloatArray();
      return (System.nanoTime() - start) / 1e6;
    }
  }

  /**
   * One eval pass by stages (as {@link FasterRcnn#detect} runs them); returns milliseconds per
   * stage. With a non-null {@code outputs} map, also stores every stage's output of the first image
   * in it.
   */
  private static double[] splitOnce(
      NDManager manager,
      FasterRcnn model,
      ParameterStore ps,
      NDArray fixedImage,
      int height,
      int width,
      Map<String, Tensor> outputs) {
    double[] t = new double[STAGES.length];
    try (NDManager it = manager.newSubManager()) {
      NDList images = new NDList(image(it, fixedImage, height, width));
      long s0 = System.nanoTime();
      ImageBatch batch = model.transform(images);
      long s1 = System.nanoTime();
      NDList features = model.features(ps, batch, false);
      long s2 = System.nanoTime();
      RegionProposalNetwork.Output rpn = model.getRpn().propose(ps, features, batch, false, null);
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
      if (outputs != null) {
        outputs.put("batch", new Tensor(batch.tensor().get(0)));
        outputs.put("features", new Tensor(features.get(0).get(0)));
        outputs.put("proposals", new Tensor(rpn.proposals().get(0)));
        outputs.put("proposal_scores", new Tensor(rpn.scores().get(0)));
        outputs.put("class_logits", new Tensor(out.get(0)));
        outputs.put("box_regression", new Tensor(out.get(1)));
        outputs.put("boxes", new Tensor(d.get(0).boxes()));
        outputs.put("scores", new Tensor(d.get(0).scores()));
        outputs.put("labels", new Tensor(d.get(0).labels()));
      }
    }
    return t;
  }

  private static double trainStep(
      NDManager manager,
      FasterRcnn model,
      ParameterStore ps,
      NDArray fixedImage,
      int height,
      int width) {
    try (NDManager it = manager.newSubManager()) {
      NDList images = new NDList(image(it, fixedImage, height, width));
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
      sgdUpdate(model, 1e-4f);
      return (System.nanoTime() - start) / 1e6;
    }
  }

  /** One plain SGD update of every parameter that has a gradient, then zeroes the gradients. */
  static void sgdUpdate(Block model, float learningRate) {
    for (Pair<String, Parameter> p : model.getParameters()) {
      NDArray w = p.getValue().getArray();
      if (w.hasGradient()) {
        NDArray g = w.getGradient();
        w.subi(g.mul(learningRate));
        // fill, not g.subi(g): NaN - NaN stays NaN and would poison every later step
        g.set(new NDIndex("..."), 0f);
      }
    }
  }

  /** The peer's arguments: timing, configuration, train step and the given mode flag. */
  private static List<String> peerArgs(Options o, String mode) {
    List<String> args = new ArrayList<>(o.timing.peerArgs());
    args.add("--config");
    args.add(o.config.name().toLowerCase(Locale.ROOT));
    if (o.train) {
      args.add("--train");
    }
    if (mode != null) {
      args.add(mode);
    }
    return args;
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
