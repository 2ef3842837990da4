package dev.jdetect.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The per-epoch record of a training run: mean losses, the learning rate at the end of the epoch,
 * wall time and validation metrics. It is written as CSV after every epoch and travels inside
 * checkpoints, so a resumed run keeps its earlier rows.
 */
public final class TrainingHistory {

  private final List<Epoch> epochs = new ArrayList<>();

  /** Creates an empty history. */
  public TrainingHistory() {}

  /**
   * Appends the record of an epoch (replacing any record of the same or a later epoch, as after a
   * resume that redoes an epoch).
   *
   * @param epoch the record
   */
  public void add(Epoch epoch) {
    epochs.removeIf(e -> e.getEpoch() >= epoch.getEpoch());
    epochs.add(epoch);
  }

  /**
   * Returns the records in epoch order.
   *
   * @return an unmodifiable view
   */
  public List<Epoch> getEpochs() {
    return Collections.unmodifiableList(epochs);
  }

  /**
   * Returns the last record.
   *
   * @return the last record, or {@code null} if empty
   */
  public Epoch last() {
    return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
  }

  /**
   * Returns the loss column names in order of first appearance.
   *
   * @return the names, the total {@code "loss"} first
   */
  public List<String> lossNames() {
    Set<String> names = new LinkedHashSet<>();
    for (Epoch e : epochs) {
      names.addAll(e.getLosses().keySet());
    }
    return new ArrayList<>(names);
  }

  /**
   * Returns the metric column names in order of first appearance.
   *
   * @return the names
   */
  public List<String> metricNames() {
    Set<String> names = new LinkedHashSet<>();
    for (Epoch e : epochs) {
      names.addAll(e.getMetrics().keySet());
    }
    return new ArrayList<>(names);
  }

  /**
   * Renders the history as CSV: {@code epoch,steps,lr,seconds,<losses...>,<metrics...>}, one row
   * per epoch (1-based epoch numbers, as printed), empty cells for missing values.
   *
   * @return the CSV text with a header line
   */
  public String toCsv() {
    List<String> losses = lossNames();
    List<String> metrics = metricNames();
    StringBuilder sb = new StringBuilder("epoch,steps,lr,seconds");
    for (String n : losses) {
      sb.append(',').append(n);
    }
    for (String n : metrics) {
      sb.append(',').append(n);
    }
    sb.append('\n');
    for (Epoch e : epochs) {
      sb.append(e.getEpoch() + 1)
          .append(',')
          .append(e.getSteps())
          .append(',')
          .append(e.getLearningRate())
          .append(',')
          .append(e.getSeconds());
      for (String n : losses) {
        Double v = e.getLosses().get(n);
        sb.append(',').append(v == null ? "" : v.toString());
      }
      for (String n : metrics) {
        Double v = e.getMetrics().get(n);
        sb.append(',').append(v == null ? "" : v.toString());
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * Parses the CSV form of {@link #toCsv()}.
   *
   * @param csv the text
   * @return the history
   * @throws IllegalArgumentException if the text is not in that form
   */
  public static TrainingHistory fromCsv(String csv) {
    TrainingHistory h = new TrainingHistory();
    String[] lines = csv.split("\n");
    if (lines.length == 0 || !lines[0].startsWith("epoch,steps,lr,seconds")) {
      throw new IllegalArgumentException("not a training-history CSV: header is missing");
    }
    String[] header = lines[0].split(",", -1);
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isEmpty()) {
        continue;
      }
      String[] cells = lines[i].split(",", -1);
      if (cells.length != header.length) {
        throw new IllegalArgumentException(
            "training-history CSV line " + (i + 1) + " has " + cells.length + " cells");
      }
      Map<String, Double> losses = new LinkedHashMap<>();
      Map<String, Double> metrics = new LinkedHashMap<>();
      for (int c = 4; c < header.length; c++) {
        if (cells[c].isEmpty()) {
          continue;
        }
        double v = Double.parseDouble(cells[c]);
        if (header[c].equals("loss") || header[c].startsWith("loss_")) {
          losses.put(header[c], v);
        } else {
          metrics.put(header[c], v);
        }
      }
      h.add(
          new Epoch(
              Integer.parseInt(cells[0]) - 1,
              Long.parseLong(cells[1]),
              Double.parseDouble(cells[2]),
              Double.parseDouble(cells[3]),
              losses,
              metrics));
    }
    return h;
  }

  /**
   * Writes the CSV atomically (temporary file, then rename).
   *
   * @param file the target file
   * @throws IOException if writing fails
   */
  public void writeCsv(Path file) throws IOException {
    AtomicFiles.write(file, toCsv().getBytes(StandardCharsets.UTF_8));
  }

  /** The record of one epoch. */
  public static final class Epoch {
    private final int epoch;
    private final long steps;
    private final double learningRate;
    private final double seconds;
    private final Map<String, Double> losses;
    private final Map<String, Double> metrics;

    /**
     * Creates a record.
     *
     * @param epoch the 0-based epoch
     * @param steps the global step count at the end of the epoch
     * @param learningRate the learning rate of the epoch's last step
     * @param seconds the wall time of the epoch's training steps
     * @param losses mean losses over the epoch (total {@code "loss"} and components)
     * @param metrics validation metrics (may be empty)
     */
    public Epoch(
        int epoch,
        long steps,
        double learningRate,
        double seconds,
        Map<String, Double> losses,
        Map<String, Double> metrics) {
      this.epoch = epoch;
      this.steps = steps;
      this.learningRate = learningRate;
      this.seconds = seconds;
      this.losses = Collections.unmodifiableMap(new LinkedHashMap<>(losses));
      this.metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    /**
     * Returns the 0-based epoch.
     *
     * @return the epoch
     */
    public int getEpoch() {
      return epoch;
    }

    /**
     * Returns the global step count at the end of the epoch.
     *
     * @return the step count
     */
    public long getSteps() {
      return steps;
    }

    /**
     * Returns the learning rate of the epoch's last step.
     *
     * @return the rate
     */
    public double getLearningRate() {
      return learningRate;
    }

    /**
     * Returns the wall time of the epoch's training steps.
     *
     * @return seconds
     */
    public double getSeconds() {
      return seconds;
    }

    /**
     * Returns the mean losses.
     *
     * @return name to mean value, {@code "loss"} (the weighted total) first
     */
    public Map<String, Double> getLosses() {
      return losses;
    }

    /**
     * Returns the validation metrics.
     *
     * @return name to value
     */
    public Map<String, Double> getMetrics() {
      return metrics;
    }
  }
}
