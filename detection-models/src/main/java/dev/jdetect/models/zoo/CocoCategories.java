package dev.jdetect.models.zoo;

import java.util.List;

/**
 * The 91 output names of torchvision's COCO detectors, in the order of their classifier outputs:
 * index 0 is {@code __background__}, index {@code i} is COCO category id {@code i}, and the ids
 * COCO never used are {@code "N/A"}. A detection with label {@code l} is {@code names().get(l)}.
 */
public final class CocoCategories {

  private static final List<String> NAMES =
      List.of(
          "__background__",
          "person",
          "bicycle",
          "car",
          "motorcycle",
          "airplane",
          "bus",
          "train",
          "truck",
          "boat",
          "traffic light",
          "fire hydrant",
          "N/A",
          "stop sign",
          "parking meter",
          "bench",
          "bird",
          "cat",
          "dog",
          "horse",
          "sheep",
          "cow",
          "elephant",
          "bear",
          "zebra",
          "giraffe",
          "N/A",
          "backpack",
          "umbrella",
          "N/A",
          "N/A",
          "handbag",
          "tie",
          "suitcase",
          "frisbee",
          "skis",
          "snowboard",
          "sports ball",
          "kite",
          "baseball bat",
          "baseball glove",
          "skateboard",
          "surfboard",
          "tennis racket",
          "bottle",
          "N/A",
          "wine glass",
          "cup",
          "fork",
          "knife",
          "spoon",
          "bowl",
          "banana",
          "apple",
          "sandwich",
          "orange",
          "broccoli",
          "carrot",
          "hot dog",
          "pizza",
          "donut",
          "cake",
          "chair",
          "couch",
          "potted plant",
          "bed",
          "N/A",
          "dining table",
          "N/A",
          "N/A",
          "toilet",
          "N/A",
          "tv",
          "laptop",
          "mouse",
          "remote",
          "keyboard",
          "cell phone",
          "microwave",
          "oven",
          "toaster",
          "sink",
          "refrigerator",
          "N/A",
          "book",
          "clock",
          "vase",
          "scissors",
          "teddy bear",
          "hair drier",
          "toothbrush");

  private CocoCategories() {}

  /**
   * Returns the names, index = classifier output = COCO category id.
   *
   * @return 91 names, {@code "__background__"} first
   */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * Returns the name of one classifier output.
   *
   * @param label a label from 0 to 90
   * @return its name ({@code "N/A"} for ids COCO left unused)
   * @throws IllegalArgumentException if the label is out of range
   */
  public static String name(long label) {
    if (label < 0 || label >= NAMES.size()) {
      throw new IllegalArgumentException("COCO label must be in [0, 90], got " + label);
    }
    return NAMES.get((int) label);
  }
}
