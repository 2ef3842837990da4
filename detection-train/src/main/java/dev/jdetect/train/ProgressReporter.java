package dev.jdetect.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Console progress of a training run: a bar redrawn in place on a terminal, or plain lines (about
 * ten per epoch) when the output is not a terminal or the environment variable {@code CI} is {@code
 * true}. Each update shows the running mean of every loss, the learning rate and the estimated time
 * left in the epoch.
 */
public final class ProgressReporter implements TrainingListener {

  /** How progress is shown. */
  public enum Mode {
    /** A bar on a terminal, lines otherwise or when {@code CI=true}. */
    AUTO,
    /** Always a bar redrawn with carriage returns. */
    BAR,
    /** Always plain lines. */
    LINES,
    /** Nothing but warnings (epoch summaries included). */
    OFF
  }

  private static final int BAR_WIDTH = 24;

  private final PrintStream out;
  private final Mode mode;
  private int epoch;
  private int totalEpochs;
  private int stepsInEpoch;
  private int lastLineBucket = -1;
  private int lastWidth;

  /**
   * Creates a reporter.
   *
   * @param out where to print
   * @param mode the display mode; {@link Mode#AUTO} is resolved here
   */
  public ProgressReporter(PrintStream out, Mode mode) {
    this.out = out;
    this.mode = mode == Mode.AUTO ? detect() : mode;
  }

  /**
   * Returns the resolved mode.
   *
   * @return never {@link Mode#AUTO}
   */
  public Mode getMode() {
    return mode;
  }

  private static Mode detect() {
    String ci = System.getenv("CI");
    if (ci != null && (ci.equalsIgnoreCase("true") || ci.equals("1"))) {
      return Mode.LINES;
    }
    return System.console() != null ? Mode.BAR : Mode.LINES;
  }

  @Override
  public void onEpochBegin(DetectionTrainer trainer, int epoch, int stepsInEpoch) {
    startEpoch(epoch, trainer.getConfig().epochs(), stepsInEpoch);
  }

  @Override
  public void onStep(DetectionTrainer trainer, TrainingListener.Step step) {
    step(step.indexInEpoch() + 1, step.meanLosses(), step.learningRate(), step.epochSeconds());
  }

  @Override
  public void onEpochEnd(DetectionTrainer trainer, TrainingHistory.Epoch record) {
    endEpoch(record);
  }

  @Override
  public void onMessage(DetectionTrainer trainer, String message) {
    message(message);
  }

  /**
   * Starts an epoch.
   *
   * @param epoch the 0-based epoch
   * @param totalEpochs the number of epochs in the run
   * @param stepsInEpoch the number of steps in the epoch
   */
  public void startEpoch(int epoch, int totalEpochs, int stepsInEpoch) {
    this.epoch = epoch;
    this.totalEpochs = totalEpochs;
    this.stepsInEpoch = stepsInEpoch;
    this.lastLineBucket = -1;
    this.lastWidth = 0;
  }

  /**
   * Reports a finished step.
   *
   * @param done the number of steps done in this epoch (1-based)
   * @param meanLosses running means of the losses in this epoch
   * @param lr the learning rate of the step
   * @param elapsedSeconds the seconds spent in this epoch so far
   */
  public void step(int done, Map<String, Double> meanLosses, double lr, double elapsedSeconds) {
    if (mode == Mode.OFF) {
      return;
    }
    double eta = done == 0 ? 0 : elapsedSeconds / done * (stepsInEpoch - done);
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "epoch %d/%d ", epoch + 1, totalEpochs));
    if (mode == Mode.BAR) {
      int filled = stepsInEpoch == 0 ? BAR_WIDTH : BAR_WIDTH * done / stepsInEpoch;
      sb.append('[');
      for (int i = 0; i < BAR_WIDTH; i++) {
        sb.append(i < filled ? '=' : (i == filled ? '>' : ' '));
      }
      sb.append("] ");
    }
    sb.append(done).append('/').append(stepsInEpoch);
    appendLosses(sb, meanLosses);
    sb.append(String.format(Locale.ROOT, " lr %.3g ETA %s", lr, formatSeconds(eta)));
    if (mode == Mode.BAR) {
      String line = sb.toString();
      int pad = Math.max(0, lastWidth - line.length());
      out.print("\r" + line + " ".repeat(pad));
      lastWidth = line.length();
      out.flush();
    } else {
      int bucket = stepsInEpoch <= 10 ? done : (done * 10) / stepsInEpoch;
      if (bucket != lastLineBucket || done == stepsInEpoch) {
        lastLineBucket = bucket;
        out.println(sb);
      }
    }
  }

  /**
   * Reports the end of an epoch with its summary line.
   *
   * @param record the epoch's record
   */
  public void endEpoch(TrainingHistory.Epoch record) {
    if (mode == Mode.OFF) {
      return;
    }
    if (mode == Mode.BAR) {
      out.println();
    }
    StringBuilder sb =
        new StringBuilder(
            String.format(Locale.ROOT, "epoch %d/%d done", record.getEpoch() + 1, totalEpochs));
    appendLosses(sb, record.getLosses());
    for (Map.Entry<String, Double> m : record.getMetrics().entrySet()) {
      sb.append(String.format(Locale.ROOT, " %s %.4f", m.getKey(), m.getValue()));
    }
    sb.append(String.format(Locale.ROOT, " (%s)", formatSeconds(record.getSeconds())));
    out.println(sb);
    out.flush();
  }

  /**
   * Prints a free-form message line (e.g. "resumed from ..."). Warnings (messages starting with
   * {@code "warning:"}, such as a damaged checkpoint) are printed in every mode, {@link Mode#OFF}
   * included.
   *
   * @param message the message
   */
  public void message(String message) {
    if (mode != Mode.OFF || message.startsWith("warning:")) {
      out.println(message);
      out.flush();
    }
  }

  private static void appendLosses(StringBuilder sb, Map<String, Double> losses) {
    for (Map.Entry<String, Double> e : losses.entrySet()) {
      String name = e.getKey().startsWith("loss_") ? e.getKey().substring(5) : e.getKey();
      sb.append(String.format(Locale.ROOT, " %s %.4f", name, e.getValue()));
    }
  }

  static String formatSeconds(double seconds) {
    long s = Math.max(0, Math.round(seconds));
    if (s >= 3600) {
      return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
    return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
  }
}
