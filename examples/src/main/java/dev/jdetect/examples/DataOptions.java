package dev.jdetect.examples;

import dev.jdetect.examples.cli.Values;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.BoxPolicy;
import dev.jdetect.train.data.CocoReader;
import dev.jdetect.train.data.SyntheticDataGenerator;
import dev.jdetect.train.data.VocReader;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where the dataset training mains get their images: a Pascal VOC root, a pair of COCO annotation
 * files, or by default a generated shapes set written as a VOC folder.
 */
final class DataOptions {

  @Option(
      names = "--voc",
      paramLabel = "DIR",
      description = "VOCdevkit root (e.g. VOCdevkit/VOC2007) instead of generated data.")
  Path voc;

  @Option(names = "--train-split", paramLabel = "NAME", description = "VOC split to train on.")
  String trainSplit = "train";

  @Option(names = "--val-split", paramLabel = "NAME", description = "VOC split to evaluate on.")
  String valSplit = "val";

  @Option(
      names = "--coco-train",
      paramLabel = "FILE",
      description = "COCO instances_*.json to train on instead of generated data.")
  Path cocoTrain;

  @Option(
      names = "--coco-train-images",
      paramLabel = "DIR",
      description = "Image folder of --coco-train.")
  Path cocoTrainImages;

  @Option(
      names = "--coco-val",
      paramLabel = "FILE",
      description = "COCO instances_*.json to evaluate on (required with --coco-train).")
  Path cocoVal;

  @Option(
      names = "--coco-val-images",
      paramLabel = "DIR",
      description = "Image folder of --coco-val.")
  Path cocoValImages;

  @Mixin ShapesOptions shapes = new ShapesOptions(800);

  @Option(
      names = "--classes",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Classes of the generated shapes set (3 to 5).")
  int classes = 3;

  @Option(
      names = "--voc-classes",
      paramLabel = "FILE|auto",
      description =
          "VOC class names: a file with one name per line, or auto (the sorted names found in the"
              + " training annotations); default: VOC's 20 classes, or classes.txt in the root.")
  String vocClasses;

  @Option(
      names = "--box-policy",
      paramLabel = "POLICY",
      description =
          "What to do with a box that sticks out of its image: error, clip, skip-box or"
              + " skip-image (counts are printed).")
  String boxPolicy = "error";

  /** The train and validation sets. */
  record Splits(AnnotationSet train, AnnotationSet val) {}

  /**
   * Reads or generates the data.
   *
   * @param out the output folder; generated data goes into {@code out/data}
   * @param images the number of images to generate
   * @param seed the generator's seed
   */
  Splits load(Path out, int images, long seed) throws IOException {
    if (voc != null) {
      AnnotationSet train = voc(voc, trainSplit, null);
      AnnotationSet val = voc(voc, valSplit, train);
      return report(new Splits(train, val));
    }
    if (cocoTrain != null) {
      AnnotationSet train = coco(cocoTrain, cocoTrainImages, null);
      return report(new Splits(train, coco(cocoVal, cocoValImages, train)));
    }
    SyntheticDataGenerator generator =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(seed)
            .optNumImages(images)
            .optNumClasses(classes)
            .optImageSize(256)
            .optTrainFraction(0.8f)
            .build();
    Path root = out.resolve("data");
    generator.writeVoc(root);
    AnnotationSet train = generated(root, "train");
    return new Splits(train, generated(root, "val"));
  }

  /**
   * Describes the training data for a model card.
   *
   * @param train the training split
   * @return e.g. {@code "VOC VOCdevkit/VOC2007 split trainval, 5011 images"}
   */
  String describe(AnnotationSet train) {
    String source;
    if (voc != null) {
      source = "VOC " + voc + " split " + trainSplit;
    } else if (cocoTrain != null) {
      source = "COCO " + cocoTrain;
    } else {
      source = "generated shapes (" + classes + " classes)";
    }
    return source + ", " + train.getImages().size() + " images";
  }

  /** Prints what the box policy did, if anything. */
  private static Splits report(Splits splits) {
    for (AnnotationSet set : new AnnotationSet[] {splits.train(), splits.val()}) {
      String summary = set.getOutsideBoxCounts().summary();
      if (!summary.isEmpty()) {
        System.out.println(summary);
      }
    }
    return splits;
  }

  /** Returns what is wrong with the combination of options, or {@code null}. */
  String problem() {
    if (cocoTrain != null && cocoVal == null) {
      return "--coco-train needs --coco-val as well";
    }
    if (voc != null && cocoTrain != null) {
      return "give either --voc or --coco-train, not both";
    }
    if (voc == null && cocoTrain == null && (classes < 3 || classes > 5)) {
      return "--classes must be 3 to 5 for the generated shapes set, got " + classes;
    }
    try {
      BoxPolicy.parse(boxPolicy);
    } catch (IllegalArgumentException e) {
      return "--box-policy: " + e.getMessage();
    }
    return null;
  }

  private static AnnotationSet generated(Path root, String split) {
    return VocReader.builder().setRoot(root).optSplit(split).build().read();
  }

  /** A VOC split; the validation split takes the training split's classes. */
  private AnnotationSet voc(Path root, String split, AnnotationSet train) {
    VocReader.Builder b =
        VocReader.builder().setRoot(root).optSplit(split).optBoxPolicy(BoxPolicy.parse(boxPolicy));
    if (train != null) {
      b.setClasses(train.getClassNames());
    } else if ("auto".equals(vocClasses)) {
      b.optClassesFromAnnotations(true);
    } else if (vocClasses != null) {
      b.optClassFile(Path.of(vocClasses));
    }
    return b.build().read();
  }

  /** A COCO split; the validation split must have the training split's categories. */
  private AnnotationSet coco(Path json, Path images, AnnotationSet train) {
    CocoReader.Builder b =
        CocoReader.builder().setAnnotationFile(json).optBoxPolicy(BoxPolicy.parse(boxPolicy));
    if (images != null) {
      b.optImageDir(images);
    }
    if (train != null) {
      b.optTrainingCategories(train);
    }
    return b.build().read();
  }
}
