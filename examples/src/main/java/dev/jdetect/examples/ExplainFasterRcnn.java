package dev.jdetect.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.box.Boxes;
import dev.jdetect.core.match.BalancedPositiveNegativeSampler;
import dev.jdetect.core.match.Matcher;
import dev.jdetect.core.match.SampleMasks;
import dev.jdetect.examples.cli.Cli;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.models.inference.ImageTensors;
import dev.jdetect.models.inference.ModelDescription;
import dev.jdetect.models.inference.SavedModel;
import dev.jdetect.models.rcnn.FasterRcnn;
import dev.jdetect.models.rcnn.ImageBatch;
import dev.jdetect.models.rcnn.RegionProposalNetwork;
import dev.jdetect.models.zoo.ModelConfig;
import dev.jdetect.models.zoo.ModelZoo;
import dev.jdetect.train.DetectionTrainer;
import dev.jdetect.train.LrSchedule;
import dev.jdetect.train.augment.HorizontalFlip;
import dev.jdetect.train.augment.Resize;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.ImageAnnotation;
import dev.jdetect.train.data.ImageFiles;
import dev.jdetect.train.data.ObjectAnnotation;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.VocReader;
import dev.jdetect.train.optim.ResumableSgd;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Steps one image through a Faster R-CNN and saves a PNG of what each stage does, in the pixels of
 * the resized network input:
 *
 * <ol>
 *   <li>{@code 1-anchors.png}: the centre of every anchor position, and all anchors of the position
 *       nearest the image centre;
 *   <li>{@code 2-rpn-labels.png}: the anchors the RPN trains on: matched to a ground-truth box with
 *       IoU &ge; 0.7 (or as a box's best anchor) are positive (green), below 0.3 negative (red);
 *       256 are sampled, half positive at most ({@link Matcher}, {@link
 *       BalancedPositiveNegativeSampler});
 *   <li>{@code 3-proposals.png}: the top 20 proposals after decoding, clipping and NMS, brighter
 *       for higher objectness;
 *   <li>{@code 4-sampled-rois.png}: the RoIs the box head trains on: proposals plus the
 *       ground-truth boxes, IoU &ge; 0.5 positive (green) else negative (red), 512 sampled with at
 *       most 25% positives;
 *   <li>{@code 5-detections.png}: the final detections (score &ge; 0.3).
 * </ol>
 *
 * <p>By default it first trains the small Faster R-CNN of {@code TrainFasterRcnn} for a few epochs
 * on a generated shapes set (so the stages have something to show); {@code --model-dir} uses a
 * saved model directory of a Faster R-CNN instead.
 */
@Command(
    name = "ExplainFasterRcnn",
    description = {
      "Saves PNGs of the stages of a Faster R-CNN on one image: anchors, RPN labels, proposals,"
          + " sampled RoIs, detections.",
      "Without --model-dir it first trains faster-rcnn-small briefly on a generated shapes set."
    })
public final class ExplainFasterRcnn implements Callable<Integer> {

  @Mixin TrainingOptions training = new TrainingOptions("runs/explain-faster-rcnn", 256, 6, 0.02);

  @Option(
      names = {"--model-dir", "--model"},
      paramLabel = "DIR",
      description = "Saved Faster R-CNN model directory to explain (default: train one first).")
  Path modelDir;

  @Mixin ShapesOptions shapes = new ShapesOptions(160);

  private ExplainFasterRcnn() {}

  /**
   * Runs the example.
   *
   * @param args command-line arguments, see {@code --help}
   */
  public static void main(String[] args) {
    Cli.main(ExplainFasterRcnn.class, args);
  }

  @Override
  public Integer call() throws IOException {
    Path out = training.out;
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(7)
            .optNumImages(shapes.images)
            .optNumClasses(3)
            .optImageSize(256)
            .build();
    generator.writeVoc(out.resolve("data"));
    AnnotationSet train =
        VocReader.builder().setRoot(out.resolve("data")).optSplit("train").build().read();
    AnnotationSet val =
        VocReader.builder().setRoot(out.resolve("data")).optSplit("val").build().read();
    ImageAnnotation image = val.getImages().get(0);

    if (modelDir != null) {
      try (NDManager manager = NDManager.newBaseManager()) {
        DetectionModel loaded = SavedModel.load(modelDir, manager);
        if (!(loaded instanceof FasterRcnn)) {
          throw new IllegalArgumentException(
              "--model-dir "
                  + modelDir
                  + " holds a "
                  + ModelDescription.read(modelDir).getArchitecture()
                  + ", not a Faster R-CNN");
        }
        explain((FasterRcnn) loaded, image, out);
      }
      return 0;
    }
    int size = training.input;
    int epochs = training.epochs;
    try (NDManager manager = NDManager.newBaseManager()) {
      FasterRcnn model =
          (FasterRcnn)
              ModelZoo.builtin()
                  .create(
                      ModelConfig.of("faster-rcnn-small", train.getNumClasses())
                          .withInputSize(size, size));
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, size, size));
      try (DetectionTrainer trainer =
          TrainingOptions.trainer(out, epochs, training.batch, training.seed, training.resume)
              .setModel(model)
              .optOptimizer(ResumableSgd.builder().build())
              .optSchedule(
                  LrSchedule.builder()
                      .setBaseLr(training.lr)
                      .optWarmup(50, 0.01)
                      .optCosine(epochs, training.lr * 0.01)
                      .build())
              .build()) {
        trainer.fit(
            SampleData.builder()
                .setAnnotations(train)
                .optPreprocess(new Resize(size, size))
                .optAugmentation(new HorizontalFlip())
                .build());
      }
      explain(model, image, out);
    }
    return 0;
  }

  /**
   * Writes the five PNGs for one annotated image.
   *
   * @param model a Faster R-CNN
   * @param annotation the image and its ground truth
   * @param out the output folder
   * @throws IOException if writing fails
   */
  static void explain(FasterRcnn model, ImageAnnotation annotation, Path out) throws IOException {
    BufferedImage original = ImageFiles.read(annotation.getFile());
    Device device = new Device(model);
    try (NDManager m = NDManager.newBaseManager(device.get())) {
      ParameterStore ps = new ParameterStore(m, false);
      NDArray chw = ImageTensors.toChw(m, original).toDevice(device.get(), false);
      ImageBatch batch = model.transform(new NDList(chw.expandDims(0)));
      int[] size = batch.imageSizes().get(0);
      float scaleY = (float) size[0] / original.getHeight();
      float scaleX = (float) size[1] / original.getWidth();
      BufferedImage base = resize(original, size[1], size[0]);
      float[] gt = new float[annotation.getObjects().size() * 4];
      long[] gtLabels = new long[annotation.getObjects().size()];
      for (int i = 0; i < gtLabels.length; i++) {
        ObjectAnnotation o = annotation.getObjects().get(i);
        gt[4 * i] = o.getX1() * scaleX;
        gt[4 * i + 1] = o.getY1() * scaleY;
        gt[4 * i + 2] = o.getX2() * scaleX;
        gt[4 * i + 3] = o.getY2() * scaleY;
        gtLabels[i] = o.getLabel();
      }
      NDArray gtBoxes = m.create(gt, new Shape(gtLabels.length, 4));

      NDList features = model.features(ps, batch, false);
      RegionProposalNetwork rpn = model.getRpn();
      List<Shape> shapes = new ArrayList<>();
      for (NDArray f : features) {
        shapes.add(f.getShape());
      }
      NDArray anchors =
          rpn.getAnchorGenerator().generate(m, shapes, batch.paddedHeight(), batch.paddedWidth());
      float[] a = anchors.toFloatArray();
      int numAnchors = a.length / 4;

      // 1: anchor centres and the anchors of the position nearest the image centre
      BufferedImage img1 = copy(base);
      Graphics2D g = graphics(img1);
      float cx = size[1] / 2f;
      float cy = size[0] / 2f;
      float best = Float.MAX_VALUE;
      float bx = 0;
      float by = 0;
      for (int i = 0; i < numAnchors; i++) {
        float x = (a[4 * i] + a[4 * i + 2]) / 2;
        float y = (a[4 * i + 1] + a[4 * i + 3]) / 2;
        g.setColor(new Color(255, 255, 0, 160));
        g.fillRect(Math.round(x) - 1, Math.round(y) - 1, 2, 2);
        float d = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        if (d < best) {
          best = d;
          bx = x;
          by = y;
        }
      }
      g.setColor(Color.CYAN);
      for (int i = 0; i < numAnchors; i++) {
        float x = (a[4 * i] + a[4 * i + 2]) / 2;
        float y = (a[4 * i + 1] + a[4 * i + 3]) / 2;
        if (x == bx && y == by) {
          rect(g, a, i);
        }
      }
      caption(g, numAnchors + " anchors; cyan: those at one position");
      g.dispose();
      DetectionDrawer.savePng(img1, out.resolve("1-anchors.png"));

      // 2: RPN training labels of the anchors
      Matcher rpnMatcher =
          Matcher.builder().optThresholds(0.7f, 0.3f).optAllowLowQualityMatches(true).build();
      NDArray matched = rpnMatcher.match(Boxes.iou(gtBoxes, anchors));
      SampleMasks rpnSample =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(256)
              .optPositiveFraction(0.5)
              .optSeed(0)
              .build()
              .sample(labels(m, matched.toLongArray()));
      BufferedImage img2 = copy(base);
      g = graphics(img2);
      int[] counts = drawSampled(g, a, rpnSample);
      drawGt(g, gt);
      caption(g, counts[0] + " positive (green), " + counts[1] + " negative (red) anchors");
      g.dispose();
      DetectionDrawer.savePng(img2, out.resolve("2-rpn-labels.png"));

      // 3: top proposals after NMS
      RegionProposalNetwork.Output proposals =
          rpn.propose(
              ps,
              features,
              batch.imageSizes(),
              batch.paddedHeight(),
              batch.paddedWidth(),
              false,
              null);
      NDArray props = proposals.proposals().get(0);
      float[] p = props.toFloatArray();
      int shown = Math.min(20, p.length / 4);
      BufferedImage img3 = copy(base);
      g = graphics(img3);
      for (int i = shown - 1; i >= 0; i--) {
        int shade = 255 - 180 * i / Math.max(1, shown);
        g.setColor(new Color(shade, shade / 3, 255));
        rect(g, p, i);
      }
      caption(g, "top " + shown + " of " + p.length / 4 + " proposals after NMS");
      g.dispose();
      DetectionDrawer.savePng(img3, out.resolve("3-proposals.png"));

      // 4: RoIs sampled for the box head (proposals + ground truth)
      NDArray rois = props.concat(gtBoxes, 0);
      NDArray roiMatched =
          Matcher.builder().optThresholds(0.5f, 0.5f).build().match(Boxes.iou(gtBoxes, rois));
      SampleMasks roiSample =
          BalancedPositiveNegativeSampler.builder()
              .optBatchSizePerImage(512)
              .optPositiveFraction(0.25)
              .optSeed(0)
              .build()
              .sample(labels(m, roiMatched.toLongArray()));
      BufferedImage img4 = copy(base);
      g = graphics(img4);
      counts = drawSampled(g, rois.toFloatArray(), roiSample);
      drawGt(g, gt);
      caption(g, counts[0] + " positive (green), " + counts[1] + " negative (red) RoIs");
      g.dispose();
      DetectionDrawer.savePng(img4, out.resolve("4-sampled-rois.png"));

      // 5: final detections
      Detections d = model.detect(ps, new NDList(chw.expandDims(0))).get(0);
      float[] boxes = d.boxes().toFloatArray();
      float[] scores = d.scores().toFloatArray();
      long[] labels = d.labels().toLongArray();
      BufferedImage img5 = copy(base);
      g = graphics(img5);
      int kept = 0;
      for (int i = 0; i < scores.length; i++) {
        if (scores[i] < 0.3f) {
          continue;
        }
        kept++;
        float[] r = {
          boxes[4 * i] * scaleX,
          boxes[4 * i + 1] * scaleY,
          boxes[4 * i + 2] * scaleX,
          boxes[4 * i + 3] * scaleY
        };
        g.setColor(Color.GREEN);
        rect(g, r, 0);
        g.drawString(
            String.format(Locale.ROOT, "%d %.2f", labels[i], scores[i]),
            Math.round(r[0]) + 2,
            Math.round(r[1]) + 12);
      }
      caption(g, kept + " detections with score >= 0.3");
      g.dispose();
      DetectionDrawer.savePng(img5, out.resolve("5-detections.png"));
      System.out.println("wrote 5 PNGs to " + out.toAbsolutePath());
    }
  }

  /** The parameters' device. */
  private static final class Device {
    private final ai.djl.Device device;

    Device(FasterRcnn model) {
      this.device = model.getParameters().valueAt(0).getArray().getDevice();
    }

    ai.djl.Device get() {
      return device;
    }
  }

  /** Matcher output to sampler labels: matched 1, below the low threshold 0, in between -1. */
  private static NDArray labels(NDManager m, long[] matched) {
    long[] l = new long[matched.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = matched[i] >= 0 ? 1 : (matched[i] == Matcher.BELOW_LOW_THRESHOLD ? 0 : -1);
    }
    return m.create(l);
  }

  private static int[] drawSampled(Graphics2D g, float[] boxes, SampleMasks sample) {
    boolean[] pos = sample.positive().toBooleanArray();
    boolean[] neg = sample.negative().toBooleanArray();
    int[] counts = new int[2];
    g.setStroke(new BasicStroke(1f));
    g.setColor(new Color(255, 60, 60, 110));
    for (int i = 0; i < neg.length; i++) {
      if (neg[i]) {
        rect(g, boxes, i);
        counts[1]++;
      }
    }
    g.setStroke(new BasicStroke(1.5f));
    g.setColor(new Color(60, 255, 60, 200));
    for (int i = 0; i < pos.length; i++) {
      if (pos[i]) {
        rect(g, boxes, i);
        counts[0]++;
      }
    }
    return counts;
  }

  private static void drawGt(Graphics2D g, float[] gt) {
    g.setStroke(new BasicStroke(2.5f));
    g.setColor(Color.WHITE);
    for (int i = 0; i < gt.length / 4; i++) {
      rect(g, gt, i);
    }
  }

  private static void rect(Graphics2D g, float[] b, int i) {
    int x1 = Math.round(b[4 * i]);
    int y1 = Math.round(b[4 * i + 1]);
    g.drawRect(x1, y1, Math.round(b[4 * i + 2]) - x1, Math.round(b[4 * i + 3]) - y1);
  }

  private static void caption(Graphics2D g, String text) {
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
    g.setColor(new Color(0, 0, 0, 170));
    g.fillRect(0, 0, g.getFontMetrics().stringWidth(text) + 8, 17);
    g.setColor(Color.WHITE);
    g.drawString(text, 4, 13);
  }

  private static Graphics2D graphics(BufferedImage img) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    return g;
  }

  private static BufferedImage copy(BufferedImage img) {
    return resize(img, img.getWidth(), img.getHeight());
  }

  private static BufferedImage resize(BufferedImage img, int width, int height) {
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(img, 0, 0, width, height, null);
    g.dispose();
    return out;
  }
}
