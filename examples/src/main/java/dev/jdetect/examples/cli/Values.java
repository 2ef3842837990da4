package dev.jdetect.examples.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converters that check a value's range as it is parsed, for {@code @Option(converter = ...)}: a
 * bad value is then reported like a malformed one, as {@code Invalid value for option '--batch':
 * ...}.
 */
public final class Values {

  private Values() {}

  /** An integer at least a minimum; subclasses fix the minimum. */
  public abstract static class AtLeast implements ITypeConverter<Integer> {
    private final int min;

    /**
     * Creates the converter.
     *
     * @param min the smallest value accepted
     */
    protected AtLeast(int min) {
      this.min = min;
    }

    @Override
    public Integer convert(String value) {
      int n = integer(value);
      if (n < min) {
        throw new TypeConversionException("must be >= " + min + ", got " + n);
      }
      return n;
    }
  }

  /** An integer at least 1. */
  public static final class Positive extends AtLeast {
    /** Creates the converter. */
    public Positive() {
      super(1);
    }
  }

  /** An integer at least 0. */
  public static final class NonNegative extends AtLeast {
    /** Creates the converter. */
    public NonNegative() {
      super(0);
    }
  }

  /** A number in a range; subclasses fix the range. */
  abstract static class InRange implements ITypeConverter<Double> {
    private final double min;
    private final double max;
    private final boolean inclusive;
    private final String range;

    InRange(double min, double max, boolean inclusive, String range) {
      this.min = min;
      this.max = max;
      this.inclusive = inclusive;
      this.range = range;
    }

    @Override
    public Double convert(String value) {
      double x = number(value);
      boolean inside = inclusive ? x >= min && x <= max : x > min && x < max;
      if (!inside) {
        throw new TypeConversionException("must be " + range + ", got " + value);
      }
      return x;
    }
  }

  /** A finite number above 0. */
  public static final class PositiveNumber extends InRange {
    /** Creates the converter. */
    public PositiveNumber() {
      super(0, Double.POSITIVE_INFINITY, false, "a number > 0");
    }
  }

  /** A number strictly between 0 and 1. */
  public static final class Fraction extends InRange {
    /** Creates the converter. */
    public Fraction() {
      super(0, 1, false, "between 0 and 1 (exclusive)");
    }
  }

  /** A number from 0 to 1, both included. */
  public static final class Probability extends InRange {
    /** Creates the converter. */
    public Probability() {
      super(0, 1, true, "between 0 and 1");
    }
  }

  private static int integer(String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not an integer");
    }
  }

  private static double number(String value) {
    try {
      return Double.parseDouble(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not a number");
    }
  }
}
