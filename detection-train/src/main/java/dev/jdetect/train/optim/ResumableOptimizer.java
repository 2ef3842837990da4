package dev.jdetect.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A first-order optimizer that updates parameters in place and keeps its per-parameter state
 * (momentum buffers, step counts) under the parameter's name, so that the state can be written to a
 * checkpoint and read back exactly.
 *
 * <p>Why not DJL's {@code ai.djl.training.optimizer.Optimizer}: DJL's optimizers keep their
 * momentum buffers and update counts in private fields that can be neither saved nor restored, so a
 * run resumed from a checkpoint would restart its momentum from zero and no longer follow the
 * uninterrupted run. This class keeps every buffer keyed by the parameter's name and {@link
 * #saveState} / {@link #loadState} write and read it bit for bit.
 *
 * <p>State buffers live in the manager handed to {@link #setManager}; the temporaries of an update
 * are closed before {@link #update} returns. Call {@link #update} with gradient recording off (the
 * default outside a {@code GradientCollector}). Instances are not thread-safe.
 */
public abstract class ResumableOptimizer {

  private final Map<String, NDList> buffers = new LinkedHashMap<>();
  private final Map<String, Long> steps = new LinkedHashMap<>();
  private NDManager manager;

  /** Creates an optimizer with no state. */
  protected ResumableOptimizer() {}

  /**
   * Sets the manager that owns the state buffers (the trainer passes its own, long-lived one).
   * Buffers already created stay where they are.
   *
   * @param manager the manager
   */
  public void setManager(NDManager manager) {
    this.manager = manager;
  }

  /**
   * Returns a short name of the algorithm, stored in checkpoints to catch mismatches.
   *
   * @return e.g. {@code "sgd"}
   */
  public abstract String algorithm();

  /**
   * Returns the number of state buffers this optimizer keeps per parameter.
   *
   * @return e.g. 1 for SGD with momentum, 2 for ResumableAdam
   */
  protected abstract int buffersPerParameter();

  /**
   * Updates one parameter in place.
   *
   * @param name the parameter's unique name (the key of its state)
   * @param weight the parameter value, updated in place
   * @param grad its gradient (not modified)
   * @param learningRate the learning rate of this step
   * @throws IllegalArgumentException if the shapes of weight and grad differ
   */
  public final void update(String name, NDArray weight, NDArray grad, double learningRate) {
    if (!weight.getShape().equals(grad.getShape())) {
      throw new IllegalArgumentException(
          "parameter '"
              + name
              + "': weight shape "
              + weight.getShape()
              + " differs from gradient shape "
              + grad.getShape());
    }
    long step = steps.getOrDefault(name, 0L) + 1;
    NDList state = buffers.get(name);
    try (NDScope scope = new NDScope()) {
      scope.suppressNotUsedWarning();
      NDList created = apply(weight, grad, state, step, learningRate);
      if (state == null && created != null) {
        NDManager owner = manager != null ? manager : weight.getManager();
        for (NDArray b : created) {
          NDScope.unregister(b);
          b.attach(owner);
        }
        buffers.put(name, created);
      }
    }
    steps.put(name, step);
  }

  /**
   * Applies the update rule. Implementations change {@code weight} (and {@code state}) in place
   * with in-place operations; new arrays created here are temporaries unless returned.
   *
   * @param weight the parameter value
   * @param grad the gradient
   * @param state the buffers of this parameter, or {@code null} on its first update
   * @param step the 1-based update count of this parameter (this update included)
   * @param lr the learning rate
   * @return on the first update, the newly created state buffers (or {@code null} if none)
   */
  protected abstract NDList apply(NDArray weight, NDArray grad, NDList state, long step, double lr);

  /**
   * Returns how many updates a parameter has received.
   *
   * @param name the parameter name
   * @return the count, 0 if never updated
   */
  public long getStepCount(String name) {
    return steps.getOrDefault(name, 0L);
  }

  /**
   * Returns a state buffer of a parameter (for inspection and tests).
   *
   * @param name the parameter name
   * @param index the buffer index, below the number of buffers per parameter
   * @return the buffer, or {@code null} if the parameter has no state yet
   */
  public NDArray getState(String name, int index) {
    NDList state = buffers.get(name);
    return state == null ? null : state.get(index);
  }

  /**
   * Writes the complete state: algorithm name, hyper-parameters, step counts and buffers.
   *
   * @param out the stream
   * @throws IOException if writing fails
   */
  public void saveState(DataOutputStream out) throws IOException {
    out.writeUTF(algorithm());
    out.writeUTF(describeHyperParameters());
    out.writeInt(steps.size());
    for (Map.Entry<String, Long> e : steps.entrySet()) {
      out.writeUTF(e.getKey());
      out.writeLong(e.getValue());
      NDList state = buffers.get(e.getKey());
      out.writeInt(state == null ? 0 : state.size());
      if (state != null) {
        for (NDArray b : state) {
          byte[] bytes = b.encode();
          out.writeInt(bytes.length);
          out.write(bytes);
        }
      }
    }
  }

  /**
   * Replaces the state with one written by {@link #saveState}. Buffers are created in the manager
   * set by {@link #setManager} (which must have been set) on its device.
   *
   * @param in the stream
   * @throws IOException if reading fails
   * @throws IllegalArgumentException if the state was written by another algorithm
   */
  public void loadState(DataInputStream in) throws IOException {
    if (manager == null) {
      throw new IllegalStateException("setManager must be called before loadState");
    }
    String algo = in.readUTF();
    if (!algo.equals(algorithm())) {
      throw new IllegalArgumentException(
          "optimizer state was written by '" + algo + "', cannot load into '" + algorithm() + "'");
    }
    in.readUTF(); // hyper-parameters: informative only, the configured ones win
    int count = in.readInt();
    clearState();
    for (int i = 0; i < count; i++) {
      String name = in.readUTF();
      long step = in.readLong();
      int n = in.readInt();
      steps.put(name, step);
      if (n > 0) {
        NDList state = new NDList(n);
        for (int j = 0; j < n; j++) {
          byte[] bytes = new byte[in.readInt()];
          in.readFully(bytes);
          state.add(manager.decode(bytes).toDevice(manager.getDevice(), false));
        }
        buffers.put(name, state);
      }
    }
  }

  /** Forgets all state (the buffers are closed). */
  public void clearState() {
    List<NDArray> toClose = new ArrayList<>();
    for (NDList state : buffers.values()) {
      toClose.addAll(state);
    }
    buffers.clear();
    steps.clear();
    toClose.forEach(NDArray::close);
  }

  /**
   * Returns the hyper-parameters as text (stored in checkpoints for reference).
   *
   * @return e.g. {@code "momentum=0.9,weightDecay=1e-4"}
   */
  protected abstract String describeHyperParameters();

  @Override
  public String toString() {
    return algorithm() + "(" + describeHyperParameters() + ")";
  }

  /** Checks a factor in {@code [0, 1)} (momentum, Adam's betas). */
  static float checkFraction(String name, float value) {
    if (!(value >= 0f && value < 1f)) {
      throw new IllegalArgumentException(name + " must be in [0, 1), got " + value);
    }
    return value;
  }

  /** Checks a weight decay: finite and non-negative. */
  static float checkWeightDecay(float weightDecay) {
    if (!(weightDecay >= 0f) || Float.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
    }
    return weightDecay;
  }
}
