package dev.jdetect.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.Targets;
import dev.jdetect.models.backbone.FrozenBatchNormFolding;
import dev.jdetect.models.dense.DenseDetector;
import dev.jdetect.models.dense.Fcos;
import dev.jdetect.models.dense.RetinaNet;
import dev.jdetect.models.neck.BackboneWithFpn;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.rcnn.RoiHeads;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.transform.BilinearResize;
import dev.jdetect.models.weights.WeightImport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * torchvision's detection zoo against jdetect's rebuilds of it, end to end, in one run: for each
 * model the peer {@code src/bench/zoo_bench.py} (run with {@code /usr/bin/python3}) writes the
 * seeded random weights of {@code src/fixtures/check_torchvision_fullsize.py} as a {@code .pth} and
 * the photos; jdetect loads that file with {@link WeightImport}, both sides detect on the same
 * photo (each model resizes it with its own transform) and the detections are compared (count and
 * largest box difference), so the timings are of equal work.
 *
 * <p>Per model: eval latency (batch 1) with the frozen batch norms as they are and folded into
 * their convolutions ({@link FrozenBatchNormFolding}), the stage split of {@code
 * fasterrcnn_resnet50_fpn} (transform, backbone, FPN, RPN, RoI pooling, box head, post-processing)
 * and of RetinaNet and FCOS (features, head, post-processing: per-level top-k, decoding, batched
 * NMS), and with {@code --train} one SGD step of each model on a batch of two photos. jdetect runs
 * with PyTorch's oneDNN off on machines where {@code ConvolutionCheck} finds it wrong; {@code
 * --torch-without-mkldnn} also times torchvision with oneDNN off, for a like-for-like ratio.
 * Medians over {@code --iters} runs, {@code --threads} threads on both sides (default 2).
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.ZooBenchmark \
 *     -Dexec.args="--warmup 2 --iters 10 --torch-without-mkldnn --train"
 * </pre>
 */
@Command(
    name = "ZooBenchmark",
    description = {
      "torchvision's detection builders against jdetect's rebuilds on the same .pth and photo:"
          + " eval latency (unfolded and folded batch norms), stage splits, one SGD step with"
          + " --train, and a check that both sides detect the same boxes."
    })
public final class ZooBenchmark implements Callable<Integer> {

  private static final List<String> MODELS =
      List.of(
          "fasterrcnn_resnet50_fpn",
          "fasterrcnn_mobilenet_v3_large_320_fpn",
          "ssdlite320_mobilenet_v3_large",
          "retinanet_resnet50_fpn",
          "fcos_resnet50_fpn");

  /** The training step's targets in each photo's pixels, as zoo_bench.py's TARGETS. */
  private static final Map<String, float[]> TARGET_BOXES =
      Map.of(
          "astronaut", new float[] {50, 60, 300, 400, 320, 100, 500, 480},
          "coffee", new float[] {100, 50, 400, 350});

  private static final Map<String, long[]> TARGET_LABELS =
      Map.of("astronaut", new long[] {1, 2}, "coffee", new long[] {3});

  private static final float LEARNING_RATE = 1e-4f;

  @Mixin TimingOptions timing = new TimingOptions(1, 5);

  @Mixin PeerOptions peer = new PeerOptions("src/bench/zoo_bench.py");

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description =
          "A model to run (repeatable; default all): fasterrcnn_resnet50_fpn,"
              + " fasterrcnn_mobilenet_v3_large_320_fpn, ssdlite320_mobilenet_v3_large,"
              + " retinanet_resnet50_fpn, fcos_resnet50_fpn.")
  List<String> models = new ArrayList<>(MODELS);

  @Option(
      names = "--photo",
      paramLabel = "NAME",
      description = "The skimage photo to detect on: coffee (400x600) or astronaut (512x512).")
  String photo = "coffee";

  @Option(names = "--train", description = "Also time one SGD step on a batch of both photos.")
  boolean train;

  @Option(
      names = "--torch-without-mkldnn",
      description = "Also time torchvision with torch.backends.mkldnn disabled.")
  boolean torchWithoutMkldnn;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description = "Exchange folder to keep (default: a temporary one, deleted at the end).")
  Path workDir;

  ZooBenchmark() {}

  /** One side's detections on the photo. */
  record Found(float[] boxes, float[] scores, long[] labels) {
    static Found of(Detections d) {
      return new Found(
          d.boxes().toFloatArray(), d.scores().toFloatArray(), d.labels().toLongArray());
    }
  }

  /** What jdetect measured for one model; the split and the step are empty or null if not run. */
  record Result(
      String model,
      double evalMs,
      double foldedEvalMs,
      int foldedPairs,
      Map<String, Double> splitMs,
      Double trainStepMs,
      Found found,
      Found foundFolded) {}

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(ZooBenchmark.class, args);
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    for (String m : models) {
      if (!MODELS.contains(m)) {
        throw new IllegalArgumentException("--model: unknown " + m + ", expected one of " + MODELS);
      }
    }
    if (!TARGET_BOXES.containsKey(photo)) {
      throw new IllegalArgumentException("--photo: expected coffee or astronaut, got " + photo);
    }
    timing.applyThreads();
    try (PythonPeer python = PythonPeer.open(peer, workDir)) {
      String problem = python.problem();
      if (problem != null) {
        throw new IOException("torchvision peer " + problem + " (it writes the weights)");
      }
      python.call(peerArgs("--export"));
      List<Result> ours = new ArrayList<>();
      try (NDManager manager = NDManager.newBaseManager()) {
        NDList images = python.read(manager, "images");
        for (String name : models) {
          Path weights = python.dir().resolve(name + ".pth");
          ours.add(bench(name, weights, images.get("photo"), images.get("second"), manager));
        }
      }
      JsonObject reference = peer.reference() ? python.call(peerArgs(null)) : null;
      report(ours, reference, python);
    }
    return 0;
  }

  private List<String> peerArgs(String mode) {
    List<String> args = new ArrayList<>(timing.peerArgs());
    for (String m : models) {
      args.add("--model");
      args.add(m);
    }
    args.add("--photo");
    args.add(photo);
    if (train) {
      args.add("--train");
    }
    if (torchWithoutMkldnn) {
      args.add("--also-without-mkldnn");
    }
    if (mode != null) {
      args.add(mode);
    }
    return args;
  }

  private Result bench(String name, Path weights, NDArray image, NDArray second, NDManager parent)
      throws IOException {
    try (NDManager manager = parent.newSubManager();
        Autograd.NoGradient ignored = Autograd.noGradient()) {
      DetectionModel model = TorchvisionCheck.build(name);
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 320, 320));
      WeightImport.load(model, weights);
      ParameterStore ps = new ParameterStore(manager, false);
      System.out.println(name + ": timing jdetect");
      Found found = detectOnce(model, ps, image, null);
      double eval = evalMedian(model, ps, image);
      int pairs = FrozenBatchNormFolding.fold(model);
      Found foundFolded = detectOnce(model, ps, image, null);
      double folded = evalMedian(model, ps, image);
      Map<String, Double> split = new LinkedHashMap<>();
      if (name.equals("fasterrcnn_resnet50_fpn") || model instanceof DenseDetector) {
        split = Timings.medians(timing.warmup, timing.iters, () -> splitOnce(model, ps, image));
      }
      FrozenBatchNormFolding.unfold(model);
      Double step = null;
      if (train) {
        step =
            Timings.medians(
                    timing.warmup,
                    timing.iters,
                    () -> Map.of("step", trainStep(manager, model, ps, image, second)))
                .get("step");
      }
      return new Result(name, eval, folded, pairs, split, step, found, foundFolded);
    }
  }

  private double evalMedian(DetectionModel model, ParameterStore ps, NDArray image) {
    double[] ms = new double[1];
    return Timings.medians(
            timing.warmup,
            timing.iters,
            () -> {
              detectOnce(model, ps, image, ms);
              return Map.of("eval", ms[0]);
            })
        .get("eval");
  }

  /** One detection on the photo; its milliseconds go to {@code ms[0]} when given. */
  private static Found detectOnce(
      DetectionModel model, ParameterStore ps, NDArray image, double[] ms) {
    // the scope frees everything the pass made, wherever DJL put it
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      long start = System.nanoTime();
      NDList out = model.forward(ps, new NDList(image.expandDims(0)), false);
      Detections d = Detections.fromNDList(out).get(0);
      Found found = Found.of(d);
      if (ms != null) {
        ms[0] = (System.nanoTime() - start) / 1e6;
      }
      return found;
    }
  }

  /** One eval pass by stages, in milliseconds, as the model's {@code detect} runs them. */
  static Map<String, Double> splitOnce(DetectionModel model, ParameterStore ps, NDArray image) {
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      Stopwatch w = new Stopwatch();
      NDList images = new NDList(image);
      if (model instanceof FasterRcnn rcnn) {
        BackboneWithFpn backbone = (BackboneWithFpn) rcnn.getBackbone();
        ImageBatch batch = w.lap("transform", () -> rcnn.transform(images));
        NDList levels =
            w.lap("backbone", () -> backbone.body().forward(ps, new NDList(batch.tensor()), false));
        NDList features = w.lap("fpn", () -> backbone.fpn().forward(ps, levels, false));
        RegionProposalNetwork.Output rpn =
            w.lap("rpn", () -> rcnn.getRpn().propose(ps, features, batch, false, null));
        RoiHeads heads = rcnn.getRoiHeads();
        NDArray pooled =
            w.lap("roi", () -> heads.pool(features, rpn.proposals(), batch.imageSizes()));
        NDList out = w.lap("box_head", () -> heads.predict(ps, pooled, false));
        w.lap(
            "post",
            () ->
                firstBoxes(
                    rcnn.getTransform()
                        .postprocess(
                            heads.postprocess(
                                out.get(0), out.get(1), rpn.proposals(), batch.imageSizes()),
                            batch)));
      } else {
        DenseDetector dense = (DenseDetector) model;
        DenseDetector.Features f = w.lap("features", () -> dense.features(ps, images, false));
        if (dense instanceof RetinaNet retina) {
          var p = w.lap("head", () -> retina.predict(ps, f, false));
          w.lap("post", () -> firstBoxes(postprocess(dense, retina.postprocess(p, f), f)));
        } else {
          Fcos fcos = (Fcos) dense;
          var p = w.lap("head", () -> fcos.predict(ps, f, false));
          w.lap("post", () -> firstBoxes(postprocess(dense, fcos.postprocess(p, f), f)));
        }
      }
      return w.laps;
    }
  }

  private static List<Detections> postprocess(
      DenseDetector dense, List<Detections> resized, DenseDetector.Features f) {
    return dense.getTransform().postprocess(resized, f.batch());
  }

  /** Reads the first image's boxes, so that the lap ends when the values exist. */
  private static float[] firstBoxes(List<Detections> d) {
    return d.get(0).boxes().toFloatArray();
  }

  /** Laps of named stages, in milliseconds. */
  private static final class Stopwatch {
    final Map<String, Double> laps = new LinkedHashMap<>();

    <T> T lap(String name, Supplier<T> stage) {
      long start = System.nanoTime();
      T out = stage.get();
      laps.put(name, (System.nanoTime() - start) / 1e6);
      return out;
    }
  }

  /** One SGD step on the batch of both photos with the fixed targets; milliseconds. */
  double trainStep(
      NDManager manager, DetectionModel model, ParameterStore ps, NDArray image, NDArray second) {
    String[] names = {photo, photo.equals("coffee") ? "astronaut" : "coffee"};
    try (NDManager it = manager.newSubManager();
        NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      List<NDArray> boxes = new ArrayList<>();
      List<NDArray> labels = new ArrayList<>();
      for (String n : names) {
        float[] b = TARGET_BOXES.get(n);
        boxes.add(it.create(b, new Shape(b.length / 4, 4)));
        labels.add(it.create(TARGET_LABELS.get(n)));
      }
      NDList images = new NDList(image, second);
      if (model instanceof Ssd ssd) {
        // SSD takes one batch of one size: resized beforehand, as torchvision's transform does
        images = fixedSize(it, ssd, images, boxes);
      }
      NDList targets = Targets.pad(it, boxes, labels);
      long start = System.nanoTime();
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList losses = model.forward(ps, images, targets, null);
        NDArray sum = losses.get(0);
        for (int i = 1; i < losses.size(); i++) {
          sum = sum.add(losses.get(i));
        }
        sum.attach(it);
        losses.attach(it);
        gc.backward(sum);
      }
      FasterRcnnBenchmark.sgdUpdate(model, LEARNING_RATE);
      return (System.nanoTime() - start) / 1e6;
    }
  }

  /**
   * Resizes each {@code (3, H, W)} image to the SSD's input size (bilinear, as torchvision) and
   * scales its target boxes with it; returns the one {@code (N, 3, h, w)} batch.
   */
  private static NDList fixedSize(NDManager manager, Ssd ssd, NDList images, List<NDArray> boxes) {
    Shape input = ssd.transform().inputShape(new Shape(1, 3, 1, 1));
    int height = (int) input.get(2);
    int width = (int) input.get(3);
    NDList resized = new NDList();
    for (int i = 0; i < images.size(); i++) {
      NDArray one = images.get(i);
      resized.add(BilinearResize.resize(one.expandDims(0), height, width, false));
      float sy = height / (float) one.getShape().get(1);
      float sx = width / (float) one.getShape().get(2);
      boxes.set(i, boxes.get(i).mul(manager.create(new float[] {sx, sy, sx, sy})));
    }
    return new NDList(NDArrays.concat(resized));
  }

  private void report(List<Result> ours, JsonObject reference, PythonPeer python)
      throws IOException {
    Map<String, JsonObject> theirs = new LinkedHashMap<>();
    if (reference != null) {
      for (JsonElement e : reference.getAsJsonArray("models")) {
        theirs.put(e.getAsJsonObject().get("model").getAsString(), e.getAsJsonObject());
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%n== ZooBenchmark: photo %s, %d threads, medians of %d (warm-up %d); jdetect on DJL"
            + " PyTorch %s, torch %s%n",
        photo,
        timing.threads,
        timing.iters,
        timing.warmup,
        Engine.getInstance().getVersion(),
        reference == null ? "-" : reference.get("torch").getAsString());
    for (Result r : ours) {
      JsonObject t = theirs.get(r.model());
      System.out.printf(
          Locale.ROOT,
          "%n%s (%s), %d conv/frozen-BN pairs folded%n",
          r.model(),
          t == null ? "?" : t.get("height") + "x" + t.get("width"),
          r.foldedPairs());
      System.out.printf(
          Locale.ROOT,
          "%-30s %10s %10s %7s %14s %7s%n",
          "median ms",
          "jdetect",
          "torch",
          "ratio",
          "torch -oneDNN",
          "ratio");
      row("eval", r.evalMs(), t, "eval_ms", "eval_ms_no_mkldnn");
      row("eval, BN folded", r.foldedEvalMs(), t, "eval_ms", "eval_ms_no_mkldnn");
      JsonObject split = t == null ? null : t.getAsJsonObject("split_ms");
      JsonObject splitNoMkldnn = t == null ? null : t.getAsJsonObject("split_ms_no_mkldnn");
      for (Map.Entry<String, Double> s : r.splitMs().entrySet()) {
        row(
            "  split (folded): " + s.getKey(),
            s.getValue(),
            number(split, s.getKey()),
            number(splitNoMkldnn, s.getKey()));
      }
      if (r.trainStepMs() != null) {
        row("train step (batch 2)", r.trainStepMs(), t, "train_step_ms", "train_step_ms_no_mkldnn");
      }
      if (t != null) {
        Found peerFound = readPeer(python, r.model());
        System.out.println("  detections, unfolded: " + agreement(r.found(), peerFound));
        System.out.println("  detections, folded:   " + agreement(r.foundFolded(), peerFound));
      }
    }
  }

  private static void row(String name, double ours, JsonObject t, String key, String keyNoMkldnn) {
    row(name, ours, number(t, key), keyNoMkldnn == null ? null : number(t, keyNoMkldnn));
  }

  private static void row(String name, double ours, Double torch, Double torchNoMkldnn) {
    System.out.printf(
        Locale.ROOT,
        "%-30s %10.1f %10s %7s %14s %7s%n",
        name,
        ours,
        torch == null ? "-" : String.format(Locale.ROOT, "%.1f", torch),
        torch == null ? "-" : String.format(Locale.ROOT, "%.2f", ours / torch),
        torchNoMkldnn == null ? "-" : String.format(Locale.ROOT, "%.1f", torchNoMkldnn),
        torchNoMkldnn == null ? "-" : String.format(Locale.ROOT, "%.2f", ours / torchNoMkldnn));
  }

  private static Double number(JsonObject o, String key) {
    return o == null || key == null || !o.has(key) ? null : o.get(key).getAsDouble();
  }

  private static Found readPeer(PythonPeer python, String model) throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList arrays = python.read(manager, model + "_peer");
      return new Found(
          arrays.get("boxes").toFloatArray(),
          arrays.get("scores").toFloatArray(),
          arrays.get("labels").toLongArray());
    }
  }

  /** Boxes this close (in pixels, every coordinate) count as the same detection. */
  static final double SAME_BOX_PX = 1e-2;

  /**
   * The counts on both sides and, when equal, how the detections pair up: each torchvision
   * detection is matched to the nearest jdetect box of its label; those within {@link #SAME_BOX_PX}
   * give the largest box and score differences. A detection without a match is reported with its
   * score gap to the nearest other torchvision detection of its label: random weights score
   * proposals over flat image regions alike, and among such ties non-maximum suppression and the
   * top-k cut keep either box, so a gap near float precision marks a tie, not a wrong box.
   */
  static String agreement(Found ours, Found theirs) {
    int n = ours.labels().length;
    int m = theirs.labels().length;
    if (n != m) {
      return String.format(Locale.ROOT, "DIFFER: %d jdetect vs %d torchvision", n, m);
    }
    double worst = 0;
    double worstScore = 0;
    int unmatched = 0;
    double widestTie = 0;
    for (int i = 0; i < m; i++) {
      double best = Double.POSITIVE_INFINITY;
      int at = -1;
      for (int j = 0; j < n; j++) {
        if (ours.labels()[j] != theirs.labels()[i]) {
          continue;
        }
        double d = 0;
        for (int k = 0; k < 4; k++) {
          d = Math.max(d, Math.abs(ours.boxes()[4 * j + k] - theirs.boxes()[4 * i + k]));
        }
        if (d < best) {
          best = d;
          at = j;
        }
      }
      if (best <= SAME_BOX_PX) {
        worst = Math.max(worst, best);
        worstScore = Math.max(worstScore, Math.abs(ours.scores()[at] - theirs.scores()[i]));
      } else {
        unmatched++;
        widestTie = Math.max(widestTie, scoreGap(theirs, i));
      }
    }
    String matched =
        String.format(
            Locale.ROOT,
            "%d on both sides, %d matched: max box diff %.2e px, max score diff %.2e",
            n,
            m - unmatched,
            worst,
            worstScore);
    if (unmatched == 0) {
      return matched;
    }
    return matched
        + String.format(
            Locale.ROOT,
            "; %d without a match within %.0e px, each scored within %.1e of another detection"
                + " of its label",
            unmatched,
            SAME_BOX_PX,
            widestTie);
  }

  /** The smallest score difference between detection {@code i} and another of its label. */
  private static double scoreGap(Found found, int i) {
    double gap = Double.POSITIVE_INFINITY;
    for (int j = 0; j < found.labels().length; j++) {
      if (j != i && found.labels()[j] == found.labels()[i]) {
        gap = Math.min(gap, Math.abs(found.scores()[j] - found.scores()[i]));
      }
    }
    return gap;
  }
}
