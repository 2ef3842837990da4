package dev.jdetect.examples.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.examples.cli.Values;
import dev.jdetect.models.ImageTargets;
import dev.jdetect.models.Targets;
import dev.jdetect.models.ssd.D2lLoss;
import dev.jdetect.models.ssd.Ssd;
import dev.jdetect.models.ssd.TinySsd;
import dev.jdetect.models.ssd.TinySsdTargets;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.train.MallocTuning;
import dev.jdetect.train.Seeds;
import dev.jdetect.train.optim.ResumableSgd;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * D2L's TinySSD training step against its PyTorch original ({@code src/bench/train_peer.py}: the
 * book's network, {@code multibox_target} and {@code calc_loss}, SGD with learning rate 0.2 and
 * weight decay 5e-4), the same initial weights and the same batch on both sides: the peer builds
 * and exports them, jdetect imports them.
 *
 * <p>Each step is timed in phases, the same cut on both sides: {@code forward} (network and
 * anchors, recording autograd), {@code targets} (the anchors' labels), {@code loss}, {@code
 * backward}, {@code optimizer} (the update and zeroing the gradients) and {@code bookkeeping} (the
 * loss values read to Java, the step's arrays released: closing the step's manager). Per side: the
 * medians of the phases and of the step, examples per second, process CPU time (user + system) and
 * page faults per step (from {@code /proc/self/stat} and {@code getrusage}), the largest per-step
 * peak resident set ({@code VmHWM}, restarted before each step through {@code
 * /proc/self/clear_refs}) and the first step's losses, which agree when weights and batch do.
 *
 * <pre>
 * mvn -pl examples exec:java -Dexec.mainClass=dev.jdetect.examples.bench.TrainBenchmark \
 *     -Dexec.args="--warmup 2 --iters 10"
 * </pre>
 */
@Command(
    name = "TrainBenchmark",
    description = {
      "D2L's TinySSD training step (batch 32, 256x256) against its PyTorch original, the same"
          + " weights and batch: phase split, examples/s, CPU time, page faults, peak RSS."
    })
public final class TrainBenchmark implements Callable<Integer> {

  private static final String[] PHASES = {
    "forward", "targets", "loss", "backward", "optimizer", "bookkeeping"
  };

  @Mixin Options o = new Options();

  private TrainBenchmark() {}

  /** Command-line options. */
  static final class Options {
    @Mixin TimingOptions timing = new TimingOptions(2, 10);

    @Mixin PeerOptions peer = new PeerOptions("src/bench/train_peer.py");

    @Option(
        names = "--batch",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Images per step.")
    int batch = 32;

    @Option(
        names = "--size",
        paramLabel = "PX",
        converter = Values.Positive.class,
        description = "Image height and width.")
    int size = 256;

    @Option(
        names = "--classes",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Object classes (D2L's banana set: 1).")
    int classes = 1;

    @Option(
        names = "--objects",
        paramLabel = "N",
        converter = Values.Positive.class,
        description = "Boxes per image.")
    int objects = 1;

    @Option(
        names = "--mallopt",
        description = "Apply MallocTuning (glibc mmap and trim thresholds) to jdetect's process.")
    boolean mallopt;
  }

  /** One side's figures: medians per step, the largest per-step peak. */
  record Result(
      double[] phasesMs,
      double stepMs,
      double cpuSeconds,
      double minorFaults,
      double majorFaults,
      double startRssMb,
      double peakRssMb,
      double[] losses) {}

  /**
   * Runs the benchmark.
   *
   * @param args see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(TrainBenchmark.class, args);
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    o.timing.applyThreads();
    boolean tuned = o.mallopt && MallocTuning.apply();
    System.out.printf(
        Locale.ROOT,
        "TrainBenchmark: TinySSD, batch %d, %dx%d, %d class(es), %d box(es) per image; medians of"
            + " %d steps after %d warm-up, %d threads, engine %s %s, mallopt %s%n",
        o.batch,
        o.size,
        o.size,
        o.classes,
        o.objects,
        o.timing.iters,
        o.timing.warmup,
        o.timing.threads,
        Engine.getInstance().getEngineName(),
        Engine.getInstance().getVersion(),
        tuned ? "on" : "off");
    try (PythonPeer python = PythonPeer.open(o.peer, null)) {
      String problem = o.peer.reference() ? python.problem() : null;
      boolean shared = o.peer.reference() && problem == null;
      if (shared) {
        python.call(peerArgs("--export"));
      }
      Result ours = runJdetect(shared ? python : null);
      Result theirs = null;
      if (shared) {
        theirs = parse(python.call(peerArgs("--weights")));
      }
      report(ours, theirs);
      if (problem != null) {
        System.out.println("note: PyTorch reference " + problem);
      }
    }
    return 0;
  }

  private List<String> peerArgs(String mode) {
    List<String> args = new ArrayList<>(o.timing.peerArgs());
    args.addAll(
        List.of(
            "--batch",
            Integer.toString(o.batch),
            "--size",
            Integer.toString(o.size),
            "--classes",
            Integer.toString(o.classes),
            "--objects",
            Integer.toString(o.objects),
            mode));
    return args;
  }

  private Result runJdetect(PythonPeer python) throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      Ssd ssd = TinySsd.builder().setNumClasses(o.classes).build();
      Seeds.initialize(ssd, manager, 0, DataType.FLOAT32, new Shape(1, 3, o.size, o.size));
      NDList batch;
      if (python != null) {
        ImportReport report =
            WeightImport.builder().optStrict(true).build().apply(ssd, python.file("tinyssd"));
        System.out.println("jdetect: imported the peer's weights, " + report);
        batch = python.read(manager, "batch");
      } else {
        batch = randomBatch(manager);
      }
      NDArray images = batch.get("images");
      NDList targets =
          Targets.pad(
              manager,
              perImage(batch.get("boxes")),
              perImage(batch.get("classes").toType(DataType.INT64, false)));
      List<Pair<String, Parameter>> trainable = new ArrayList<>();
      for (Pair<String, Parameter> p : ssd.getParameters()) {
        if (p.getValue().requiresGradient()) {
          trainable.add(p);
        }
      }
      ResumableSgd sgd = ResumableSgd.builder().optWeightDecay(5e-4f).build();
      ParameterStore ps = new ParameterStore(manager, false);
      D2lLoss loss = new D2lLoss(0.5f);
      List<double[]> rows = new ArrayList<>();
      double[] losses = null;
      for (int i = 0; i < o.timing.warmup + o.timing.iters; i++) {
        ProcessStats.resetPeak();
        ProcessStats start = ProcessStats.now();
        double[] ms = new double[PHASES.length];
        double[] values = step(manager, ssd, ps, loss, sgd, trainable, images, targets, ms).clone();
        ProcessStats used = ProcessStats.now().since(start);
        losses = losses == null ? values : losses;
        if (i >= o.timing.warmup) {
          double[] row = Arrays.copyOf(ms, PHASES.length + 6);
          row[PHASES.length] = Arrays.stream(ms).sum();
          row[PHASES.length + 1] = used.cpuSeconds();
          row[PHASES.length + 2] = used.minorFaults();
          row[PHASES.length + 3] = used.majorFaults();
          row[PHASES.length + 4] = used.peakRssMb();
          row[PHASES.length + 5] = start.rssMb();
          rows.add(row);
        }
      }
      double[] phases = new double[PHASES.length];
      for (int k = 0; k < PHASES.length; k++) {
        phases[k] = median(rows, k);
      }
      int n = PHASES.length;
      double peak = rows.stream().mapToDouble(r -> r[n + 4]).max().orElse(Double.NaN);
      return new Result(
          phases,
          median(rows, n),
          median(rows, n + 1),
          median(rows, n + 2),
          median(rows, n + 3),
          median(rows, n + 5),
          peak,
          losses);
    }
  }

  /**
   * One training step as {@code dev.jdetect.train.GradientStep} runs it, cut into phases.
   *
   * @param ms receives each phase's milliseconds
   * @return the class and box losses
   */
  private static double[] step(
      NDManager manager,
      Ssd ssd,
      ParameterStore ps,
      D2lLoss loss,
      ResumableSgd sgd,
      List<Pair<String, Parameter>> trainable,
      NDArray images,
      NDList targets,
      double[] ms) {
    NDManager step = manager.newSubManager();
    long t = System.nanoTime();
    NDList terms;
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDList raw = ssd.forwardHeads(ps, images, true);
      raw.attach(step);
      t = lap(ms, 0, t);
      List<ImageTargets> perImage = Targets.unpad(targets);
      D2lLoss.AnchorLabels labels = loss.label(raw.get(2), perImage);
      t = lap(ms, 1, t);
      terms =
          TinySsdTargets.d2lLoss(
              raw.get(0), raw.get(1), labels.classes(), labels.offsets(), labels.mask());
      NDArray total = terms.get(0).add(terms.get(1));
      t = lap(ms, 2, t);
      collector.backward(total);
    }
    t = lap(ms, 3, t);
    for (Pair<String, Parameter> p : trainable) {
      NDArray w = p.getValue().getArray();
      NDArray g = w.getGradient();
      g.attach(step);
      sgd.update(p.getKey(), w, g, 0.2);
      g.subi(g);
    }
    t = lap(ms, 4, t);
    float[] values = NDArrays.stack(terms).toFloatArray();
    step.close();
    lap(ms, 5, t);
    return new double[] {values[0], values[1]};
  }

  private static long lap(double[] ms, int phase, long since) {
    long now = System.nanoTime();
    ms[phase] += (now - since) / 1e6;
    return now;
  }

  private NDList randomBatch(NDManager manager) {
    Engine.getInstance().setRandomSeed(0);
    NDArray images = manager.randomUniform(0f, 1f, new Shape(o.batch, 3, o.size, o.size));
    Random random = new Random(0);
    float[] boxes = new float[o.batch * o.objects * 4];
    long[] classes = new long[o.batch * o.objects];
    for (int i = 0; i < classes.length; i++) {
      float x = random.nextFloat() * 0.6f;
      float y = random.nextFloat() * 0.6f;
      float w = 0.1f + random.nextFloat() * 0.3f;
      float h = 0.1f + random.nextFloat() * 0.3f;
      float[] b = {x * o.size, y * o.size, (x + w) * o.size, (y + h) * o.size};
      System.arraycopy(b, 0, boxes, 4 * i, 4);
      classes[i] = 1 + random.nextInt(o.classes);
    }
    NDList out =
        new NDList(
            images,
            manager.create(boxes, new Shape(o.batch, o.objects, 4)),
            manager.create(classes, new Shape(o.batch, o.objects)));
    out.get(0).setName("images");
    out.get(1).setName("boxes");
    out.get(2).setName("classes");
    return out;
  }

  private static List<NDArray> perImage(NDArray stacked) {
    List<NDArray> out = new ArrayList<>();
    for (int i = 0; i < stacked.getShape().get(0); i++) {
      out.add(stacked.get(i));
    }
    return out;
  }

  private static Result parse(JsonObject obj) {
    System.out.println("PyTorch " + obj.get("torch").getAsString());
    JsonObject p = obj.getAsJsonObject("phases_ms");
    double[] phases = new double[PHASES.length];
    for (int k = 0; k < PHASES.length; k++) {
      phases[k] = p.get(PHASES[k]).getAsDouble();
    }
    JsonArray l = obj.getAsJsonArray("losses");
    return new Result(
        phases,
        obj.get("step_ms").getAsDouble(),
        obj.get("cpu_s").getAsDouble(),
        obj.get("minor_faults").getAsDouble(),
        obj.get("major_faults").getAsDouble(),
        obj.get("start_rss_mb").getAsDouble(),
        obj.get("peak_rss_mb").getAsDouble(),
        new double[] {l.get(0).getAsDouble(), l.get(1).getAsDouble()});
  }

  private void report(Result ours, Result theirs) {
    System.out.println();
    System.out.printf(
        Locale.ROOT, "%-26s %12s %12s %8s%n", "median per step", "jdetect", "PyTorch", "ratio");
    for (int k = 0; k < PHASES.length; k++) {
      print(
          "  " + PHASES[k] + " (ms)",
          ours.phasesMs()[k],
          theirs == null ? Double.NaN : theirs.phasesMs()[k]);
    }
    print("step (ms)", ours.stepMs(), theirs == null ? Double.NaN : theirs.stepMs());
    double ex = o.batch * 1000.0 / ours.stepMs();
    print("examples/s", ex, theirs == null ? Double.NaN : o.batch * 1000.0 / theirs.stepMs());
    print("CPU user+sys (s)", ours.cpuSeconds(), theirs == null ? Double.NaN : theirs.cpuSeconds());
    print(
        "minor page faults",
        ours.minorFaults(),
        theirs == null ? Double.NaN : theirs.minorFaults());
    print(
        "major page faults",
        ours.majorFaults(),
        theirs == null ? Double.NaN : theirs.majorFaults());
    print(
        "RSS at step start (MB)",
        ours.startRssMb(),
        theirs == null ? Double.NaN : theirs.startRssMb());
    print("peak RSS (MB)", ours.peakRssMb(), theirs == null ? Double.NaN : theirs.peakRssMb());
    System.out.printf(
        Locale.ROOT,
        "first step's losses (class, box): jdetect %.6f, %.6f",
        ours.losses()[0],
        ours.losses()[1]);
    if (theirs != null) {
      System.out.printf(
          Locale.ROOT, "; PyTorch %.6f, %.6f", theirs.losses()[0], theirs.losses()[1]);
    }
    System.out.println();
  }

  private static void print(String name, double ours, double theirs) {
    if (Double.isNaN(theirs)) {
      System.out.printf(Locale.ROOT, "%-26s %12.2f %12s %8s%n", name, ours, "-", "-");
    } else {
      System.out.printf(
          Locale.ROOT, "%-26s %12.2f %12.2f %8.2f%n", name, ours, theirs, ours / theirs);
    }
  }

  private static double median(List<double[]> rows, int column) {
    double[] s = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
    int n = s.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
