package dev.jdetect.examples.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Medians of repeated timings, as every benchmark reports them. */
final class Timings {

  private Timings() {}

  /** The median of the values ({@code NaN} for none). */
  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n == 0 ? Double.NaN : (n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
  }

  /**
   * Runs {@code once} {@code warmup} times untimed, then {@code iters} times, and returns the
   * median of every named figure it returns (milliseconds per stage), in its order.
   */
  static Map<String, Double> medians(int warmup, int iters, Supplier<Map<String, Double>> once) {
    for (int i = 0; i < warmup; i++) {
      once.get();
    }
    List<Map<String, Double>> runs = new java.util.ArrayList<>();
    for (int i = 0; i < iters; i++) {
      runs.add(once.get());
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (String key : runs.get(0).keySet()) {
      out.put(key, median(runs.stream().mapToDouble(r -> r.get(key)).toArray()));
    }
    return out;
  }
}
