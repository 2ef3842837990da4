package dev.jdetect.train;

import java.io.IOException;
import java.util.Map;

/**
 * Observes a {@link DetectionTrainer} run, in the spirit of DJL's {@code TrainingListener}: the
 * trainer's loop only trains, and progress, checkpoints and the metrics file are listeners. Add
 * your own with {@link TrainingConfig.BaseBuilder#optListener}; every method has an empty default.
 */
public interface TrainingListener {

  /**
   * Called once, before the first step of the first {@link DetectionTrainer#fit} call (after a
   * resume has restored the trainer's state).
   *
   * @param trainer the trainer
   * @throws IOException if the listener's files cannot be read or written
   */
  default void onTrainingBegin(DetectionTrainer trainer) throws IOException {}

  /**
   * Called at the start of an epoch.
   *
   * @param trainer the trainer
   * @param epoch the 0-based epoch
   * @param stepsInEpoch the number of steps in the epoch
   */
  default void onEpochBegin(DetectionTrainer trainer, int epoch, int stepsInEpoch) {}

  /**
   * Called after every optimizer step (skipped steps included).
   *
   * @param trainer the trainer
   * @param step the step's record
   */
  default void onStep(DetectionTrainer trainer, Step step) {}

  /**
   * Called at the end of an epoch, after evaluation; {@link DetectionTrainer#getHistory()} already
   * holds the epoch's record.
   *
   * @param trainer the trainer
   * @param record the epoch's record
   * @throws IOException if the listener's files cannot be written
   */
  default void onEpochEnd(DetectionTrainer trainer, TrainingHistory.Epoch record)
      throws IOException {}

  /**
   * Called with a free-form message of the trainer (a resume, a skipped step, a damaged
   * checkpoint).
   *
   * @param trainer the trainer
   * @param message the message
   */
  default void onMessage(DetectionTrainer trainer, String message) {}

  /**
   * One finished optimizer step.
   *
   * @param epoch the 0-based epoch
   * @param indexInEpoch the 0-based step within the epoch
   * @param stepsInEpoch the number of steps in the epoch
   * @param globalStep the number of steps done in the run, this one included
   * @param learningRate the learning rate of the step
   * @param losses the step's losses (the total under {@code "loss"})
   * @param meanLosses the running means of the losses over the epoch so far
   * @param epochSeconds the seconds spent in the epoch so far
   */
  record Step(
      int epoch,
      int indexInEpoch,
      int stepsInEpoch,
      long globalStep,
      double learningRate,
      Map<String, Double> losses,
      Map<String, Double> meanLosses,
      double epochSeconds) {}
}
