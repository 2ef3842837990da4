package dev.jdetect.models.inference;

import java.util.List;
import java.util.Locale;

/**
 * What a reader of a saved model needs to judge it: what it was trained on and how well it did.
 * Stored in {@code model.json} and rendered as {@code MODEL_CARD.md} next to the weights by {@link
 * SavedModel#save}.
 *
 * @param trainingData the data set, e.g. {@code "VOC2007 trainval (5011 images)"}
 * @param epochs the epochs trained
 * @param metric the name of the quality measure, e.g. {@code "VOC mAP@0.5 on test"}, or {@code
 *     null} if none was measured
 * @param value the measure reached, {@code null} if none was measured
 * @param notes free text (command line, seed, hardware), may be {@code null}
 */
public record ModelCard(
    String trainingData, int epochs, String metric, Double value, String notes) {

  /** The file name of the rendered card. */
  public static final String FILE_NAME = "MODEL_CARD.md";

  /**
   * Renders the card with the model's description as Markdown.
   *
   * @param description the model
   * @return the Markdown text
   */
  public String toMarkdown(ModelDescription description) {
    StringBuilder md = new StringBuilder();
    md.append("# ").append(description.getArchitecture()).append("\n\n");
    for (String line : summary(description)) {
      md.append("- ").append(line).append('\n');
    }
    if (notes != null && !notes.isBlank()) {
      md.append("\n").append(notes.strip()).append('\n');
    }
    return md.toString();
  }

  /**
   * Returns the card as lines of "field: value" for a console.
   *
   * @param description the model
   * @return the lines
   */
  public List<String> summary(ModelDescription description) {
    return List.of(
        "architecture: " + description.getArchitecture(),
        "classes (" + description.getClasses().size() + "): " + description.getClasses(),
        "input size: "
            + (description.hasInputSize()
                ? description.getInputWidth() + "x" + description.getInputHeight()
                : "the model's default"),
        "training data: " + (trainingData == null ? "not recorded" : trainingData),
        "epochs: " + epochs,
        "quality: "
            + (metric == null || value == null
                ? "not measured"
                : String.format(Locale.ROOT, "%s = %.4f", metric, value)));
  }
}
