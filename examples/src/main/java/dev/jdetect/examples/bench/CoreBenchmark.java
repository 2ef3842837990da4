package dev.jdetect.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jdetect.core.anchor.AnchorGenerator;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.nms.Nms;
import dev.jdetect.core.roi.RoiAlign;
import dev.jdetect.examples.cli.Cli;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Times the detection-core ops against torchvision in one run (issue #2, section 4): NMS on 1k, 6k
 * and 20k boxes, batched NMS on 6k boxes x 20 classes, RoIAlign of 512 and 2000 RoIs on a
 * 1x512x50x50 map (7x7, sampling ratio 2, scale 1/16), a 22500x20 IoU matrix, and the 5-level FPN
 * anchors of an 800x800 image.
 *
 * <p>Inputs are generated from a seed in Java and handed to the torchvision peer ({@code
 * src/bench/core_bench.py}, run with {@code /usr/bin/python3} and {@code --threads} torch threads)
 * through {@link PythonPeer}, so both sides time identical inputs. When that Python cannot import
 * torchvision, only the jdetect column is printed. Every number is the median over the repetitions
 * after a warm-up. Not a test: run it on a quiet machine.
 *
 * <p>From the repository root (so that {@code src/bench/core_bench.py} is found):
 *
 * <pre>
 * mvn -B -q -o -pl examples -am compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/jdetect-cp.txt -Dspotless.check.skip=true
 * java -Dai.djl.offline=true -cp examples/target/classes:$(cat /tmp/jdetect-cp.txt) \
 *     dev.jdetect.examples.bench.CoreBenchmark --iters 20 --warmup 10
 * </pre>
 *
 * <p>or, once the modules are installed, {@code mvn -pl examples exec:java
 * -Dexec.mainClass=dev.jdetect.examples.bench.CoreBenchmark -Dexec.args="--iters 20"}.
 */
@Command(
    name = "CoreBenchmark",
    description = {
      "Times the detection-core ops (NMS, batched NMS, RoIAlign, IoU, FPN anchors) against"
          + " torchvision on identical seeded inputs; medians in ms and the ratio per op."
    })
public final class CoreBenchmark implements Callable<Integer> {

  @Mixin TimingOptions timing = new TimingOptions(10, 20);

  @Mixin PeerOptions peer = new PeerOptions("src/bench/core_bench.py");

  @Option(names = "--seed", paramLabel = "N", description = "Seed of the generated inputs.")
  long seed = 42;

  private CoreBenchmark() {}

  /** One benchmarked op: a name, its target ratio and the timed call. */
  private static final class Op {
    final String name;
    final double target;
    final Function<NDManager, NDArray> call;

    Op(String name, double target, Function<NDManager, NDArray> call) {
      this.name = name;
      this.target = target;
      this.call = call;
    }
  }

  /**
   * Runs the benchmark.
   *
   * @param args {@code --help} lists the options
   */
  public static void main(String[] args) {
    Cli.main(CoreBenchmark.class, args);
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    timing.applyThreads();
    try (NDManager manager = NDManager.newBaseManager();
        PythonPeer python = PythonPeer.open(peer, null)) {
      NDList inputs = makeInputs(manager, new Random(seed));
      python.write("inputs", inputs);
      List<Op> ops = ops(inputs);
      Map<String, Double> ours = new LinkedHashMap<>();
      for (Op op : ops) {
        ours.put(op.name, time(manager, op, timing.warmup, timing.iters));
        System.err.printf(Locale.ROOT, "jdetect %-22s %10.3f ms%n", op.name, ours.get(op.name));
      }
      Map<String, Double> theirs = new LinkedHashMap<>();
      String note;
      String problem = peer.reference() ? python.problem() : "disabled (--no-reference)";
      if (problem != null) {
        note = "torchvision reference " + problem + "; printing jdetect alone";
      } else {
        JsonObject answer = python.call(timing.peerArgs());
        for (Map.Entry<String, JsonElement> e : answer.getAsJsonObject("ms").entrySet()) {
          theirs.put(e.getKey(), e.getValue().getAsDouble());
        }
        note =
            "torchvision peer: "
                + answer.get("versions").getAsString()
                + " (torch.set_num_threads("
                + timing.threads
                + "))";
      }
      printTable(ops, ours, theirs, timing.iters, timing.warmup, note);
    }
    return 0;
  }

  /** Seeded inputs, named as the Python peer expects them. */
  private static NDList makeInputs(NDManager m, Random rnd) {
    NDList list = new NDList();
    for (int n : new int[] {1000, 6000, 20000}) {
      list.add(
          named(m.create(randomBoxes(rnd, n, 800, 16, 256), new Shape(n, 4)), "nms_boxes_" + n));
      list.add(named(m.create(randomScores(rnd, n)), "nms_scores_" + n));
    }
    long[] classes = new long[6000];
    for (int i = 0; i < classes.length; i++) {
      classes[i] = rnd.nextInt(20);
    }
    list.add(named(m.create(classes), "batched_idxs"));
    float[] features = new float[512 * 50 * 50];
    for (int i = 0; i < features.length; i++) {
      features[i] = (float) rnd.nextGaussian();
    }
    list.add(named(m.create(features, new Shape(1, 512, 50, 50)), "roi_features"));
    for (int k : new int[] {512, 2000}) {
      float[] b = randomBoxes(rnd, k, 800, 16, 400);
      float[] rois = new float[5 * k];
      for (int i = 0; i < k; i++) {
        System.arraycopy(b, 4 * i, rois, 5 * i + 1, 4);
      }
      list.add(named(m.create(rois, new Shape(k, 5)), "rois_" + k));
    }
    list.add(named(m.create(randomBoxes(rnd, 22500, 800, 16, 256), new Shape(22500, 4)), "iou_a"));
    list.add(named(m.create(randomBoxes(rnd, 20, 800, 32, 400), new Shape(20, 4)), "iou_b"));
    return list;
  }

  private static NDArray named(NDArray a, String name) {
    a.setName(name);
    return a;
  }

  /** Boxes inside a square image, side lengths log-uniform in [minSize, maxSize]. */
  private static float[] randomBoxes(Random rnd, int n, float image, float minSize, float maxSize) {
    float[] b = new float[4 * n];
    double logMin = Math.log(minSize);
    double logMax = Math.log(maxSize);
    for (int i = 0; i < n; i++) {
      float w = (float) Math.exp(logMin + rnd.nextDouble() * (logMax - logMin));
      float h = (float) Math.exp(logMin + rnd.nextDouble() * (logMax - logMin));
      float x1 = rnd.nextFloat() * Math.max(1f, image - w);
      float y1 = rnd.nextFloat() * Math.max(1f, image - h);
      b[4 * i] = x1;
      b[4 * i + 1] = y1;
      b[4 * i + 2] = x1 + w;
      b[4 * i + 3] = y1 + h;
    }
    return b;
  }

  private static float[] randomScores(Random rnd, int n) {
    float[] s = new float[n];
    for (int i = 0; i < n; i++) {
      s[i] = rnd.nextFloat();
    }
    return s;
  }

  private static NDArray input(NDList inputs, String name) {
    for (NDArray a : inputs) {
      if (name.equals(a.getName())) {
        return a;
      }
    }
    throw new IllegalStateException("no input " + name);
  }

  private static List<Op> ops(NDList in) {
    List<Op> ops = new ArrayList<>();
    for (int n : new int[] {1000, 6000, 20000}) {
      NDArray boxes = input(in, "nms_boxes_" + n);
      NDArray scores = input(in, "nms_scores_" + n);
      ops.add(new Op("nms " + n / 1000 + "k", 0.5, m -> Nms.nms(boxes, scores, 0.7)));
    }
    NDArray bBoxes = input(in, "nms_boxes_6000");
    NDArray bScores = input(in, "nms_scores_6000");
    NDArray idxs = input(in, "batched_idxs");
    ops.add(new Op("batched_nms 6k x 20", 0.5, m -> Nms.batchedNms(bBoxes, bScores, idxs, 0.5)));
    NDArray features = input(in, "roi_features");
    RoiAlign align =
        RoiAlign.builder()
            .optOutputSize(7, 7)
            .optSpatialScale(1f / 16)
            .optSamplingRatio(2)
            .optAligned(false)
            .build();
    for (int k : new int[] {512, 2000}) {
      NDArray rois = input(in, "rois_" + k);
      ops.add(new Op("roi_align " + k, 1.0, m -> align.apply(features, rois)));
    }
    NDArray a = input(in, "iou_a");
    NDArray b = input(in, "iou_b");
    ops.add(new Op("iou 22500x20", 1.0, m -> Boxes.iou(a, b)));
    AnchorGenerator anchors =
        AnchorGenerator.builder()
            .optSizes(
                Arrays.asList(
                    new float[] {32},
                    new float[] {64},
                    new float[] {128},
                    new float[] {256},
                    new float[] {512}))
            .optAspectRatios(Arrays.asList(new float[] {0.5f, 1f, 2f}))
            .build();
    List<Shape> grids =
        Arrays.asList(
            new Shape(200, 200),
            new Shape(100, 100),
            new Shape(50, 50),
            new Shape(25, 25),
            new Shape(13, 13));
    ops.add(new Op("anchors 800x800 fpn", 1.0, m -> anchors.generate(m, grids, 800, 800)));
    return ops;
  }

  /** Median wall time in ms; each call's arrays are freed with a sub-manager. */
  private static double time(NDManager manager, Op op, int warmup, int reps) {
    double[] ms = new double[reps];
    for (int i = 0; i < warmup + reps; i++) {
      try (NDManager sub = manager.newSubManager()) {
        long t0 = System.nanoTime();
        NDArray out = op.call.apply(sub);
        out.attach(sub);
        long t1 = System.nanoTime();
        if (i >= warmup) {
          ms[i - warmup] = (t1 - t0) / 1e6;
        }
      }
    }
    Arrays.sort(ms);
    return reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
  }

  private static void printTable(
      List<Op> ops,
      Map<String, Double> ours,
      Map<String, Double> theirs,
      int reps,
      int warmup,
      String note) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "%n%-22s %14s %16s %8s %8s %5s%n",
            "op",
            "jdetect ms",
            "torchvision ms",
            "ratio",
            "target",
            "met"));
    for (Op op : ops) {
      double mine = ours.get(op.name);
      Double ref = theirs.get(op.name);
      String refText = ref == null ? "-" : String.format(Locale.ROOT, "%.3f", ref);
      String ratio = ref == null ? "-" : String.format(Locale.ROOT, "%.2f", mine / ref);
      String met = ref == null ? "-" : (mine / ref <= op.target ? "yes" : "NO");
      sb.append(
          String.format(
              Locale.ROOT,
              "%-22s %14.3f %16s %8s %8s %5s%n",
              op.name,
              mine,
              refText,
              ratio,
              String.format(Locale.ROOT, "<=%.1f", op.target),
              met));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "medians over %d reps after %d warm-up calls; %d CPUs visible to the JVM; %s%n",
            reps,
            warmup,
            Runtime.getRuntime().availableProcessors(),
            note));
    System.out.print(sb);
  }
}
