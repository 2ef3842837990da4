package dev.jdetect.train;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps glibc's allocator from handing a training step's large buffers back to the kernel.
 *
 * <p>PyTorch allocates a step's activations and gradients with {@code malloc}. By default glibc
 * serves blocks above its mmap threshold with fresh {@code mmap}s and unmaps them on {@code free},
 * and gives the top of its heap back once more than the trim threshold is free; the next step then
 * pays page faults and page zeroing for the same memory again. {@link #apply()} raises both
 * thresholds through {@code mallopt}: the mmap threshold to glibc's upper limit on 64-bit systems
 * (32 MiB) and the trim threshold to 1 GiB. The process then keeps up to that much freed memory for
 * reuse, and blocks above 32 MiB are still mapped and unmapped each time. Setting the environment
 * variables {@code MALLOC_MMAP_THRESHOLD_} and {@code MALLOC_TRIM_THRESHOLD_} before the JVM starts
 * has the same effect.
 *
 * <p>This removes few of a step's page faults. What removes nearly all of them is one arena and no
 * mmap'ed blocks at all ({@code MALLOC_ARENA_MAX=1}, {@code MALLOC_MMAP_MAX_=0}, a high {@code
 * MALLOC_TRIM_THRESHOLD_}), and that has to be in the environment when the process starts: by the
 * time Java code runs, the JVM's threads have arenas of their own, which map large blocks whatever
 * {@code mallopt} says. The {@code examples/fast-malloc} launcher of the jdetect sources sets these
 * variables.
 *
 * <p>The trainer calls it when built with {@code optMallocTuning(true)} or when the system property
 * {@value #PROPERTY} is {@code on}. It is off by default: it changes the whole process's allocator
 * (the JVM's own native allocations too) and its benefit depends on the machine.
 */
public final class MallocTuning {

  /**
   * The system property that switches the tuning on for every trainer: {@code on} or {@code off}.
   */
  public static final String PROPERTY = "jdetect.mallopt";

  /** glibc's upper limit of the mmap threshold on 64-bit systems. */
  static final int MMAP_THRESHOLD = 32 * 1024 * 1024;

  static final int TRIM_THRESHOLD = 1024 * 1024 * 1024;

  // mallopt's parameter numbers, from glibc's malloc.h
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_MMAP_THRESHOLD = -3;

  private static final Logger LOG = LoggerFactory.getLogger(MallocTuning.class);

  private MallocTuning() {}

  /**
   * Sets glibc's mmap and trim thresholds for the process.
   *
   * @return {@code true} if both were set; {@code false} where the C library has no {@code mallopt}
   *     (not glibc) or refused a value
   */
  public static boolean apply() {
    Function mallopt;
    try {
      mallopt = NativeLibrary.getInstance("c").getFunction("mallopt");
    } catch (UnsatisfiedLinkError e) {
      LOG.debug("no mallopt in the C library; allocator left as it is", e);
      return false;
    }
    boolean mmap = mallopt.invokeInt(new Object[] {M_MMAP_THRESHOLD, MMAP_THRESHOLD}) == 1;
    boolean trim = mallopt.invokeInt(new Object[] {M_TRIM_THRESHOLD, TRIM_THRESHOLD}) == 1;
    if (!mmap || !trim) {
      LOG.warn("mallopt refused a threshold (mmap: {}, trim: {})", mmap, trim);
    }
    return mmap && trim;
  }

  /**
   * Returns whether the system property {@value #PROPERTY} asks for the tuning.
   *
   * @return {@code true} for {@code on}
   * @throws IllegalArgumentException if the property is set to something other than on or off
   */
  static boolean requestedByProperty() {
    String value = System.getProperty(PROPERTY, "off").trim().toLowerCase(Locale.ROOT);
    return switch (value) {
      case "on" -> true;
      case "off" -> false;
      default ->
          throw new IllegalArgumentException(
              "system property " + PROPERTY + " must be on or off, got '" + value + "'");
    };
  }
}
