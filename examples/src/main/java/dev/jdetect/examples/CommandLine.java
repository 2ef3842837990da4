package dev.jdetect.examples;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal parser for the examples' {@code --name value} and {@code --flag} arguments, with a
 * generated {@code --help} text.
 */
final class CommandLine {

  private final String program;
  private final String summary;
  private final Map<String, String[]> options = new LinkedHashMap<>();
  private final Map<String, String> values = new LinkedHashMap<>();
  private final java.util.Set<String> flags = new java.util.HashSet<>();
  private final List<String> positional = new java.util.ArrayList<>();

  CommandLine(String program, String summary) {
    this.program = program;
    this.summary = summary;
  }

  /** Declares an option with a value; {@code defaultValue} may be null. */
  CommandLine option(String name, String defaultValue, String help) {
    options.put(name, new String[] {defaultValue, help, "value"});
    return this;
  }

  /** Declares a boolean flag. */
  CommandLine flag(String name, String help) {
    options.put(name, new String[] {null, help, "flag"});
    return this;
  }

  /**
   * Parses the arguments.
   *
   * @return false if help was requested (and printed)
   * @throws IllegalArgumentException for unknown options or missing values
   */
  boolean parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        System.out.println(help());
        return false;
      }
      if (!a.startsWith("--")) {
        positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String inline = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        inline = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      String[] spec = options.get(name);
      if (spec == null) {
        throw new IllegalArgumentException("unknown option --" + name + "\n\n" + help());
      }
      if (spec[2].equals("flag")) {
        flags.add(name);
      } else if (inline != null) {
        values.put(name, inline);
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option --" + name + " needs a value");
        }
        values.put(name, args[++i]);
      }
    }
    return true;
  }

  String help() {
    StringBuilder sb = new StringBuilder();
    sb.append("Usage: ").append(program).append(" [options]\n\n").append(summary).append("\n\n");
    sb.append("Options:\n");
    for (Map.Entry<String, String[]> e : options.entrySet()) {
      String head = "  --" + e.getKey() + (e.getValue()[2].equals("value") ? " <value>" : "");
      sb.append(String.format(Locale.ROOT, "%-30s %s", head, e.getValue()[1]));
      if (e.getValue()[0] != null) {
        sb.append(" (default ").append(e.getValue()[0]).append(')');
      }
      sb.append('\n');
    }
    sb.append(String.format(Locale.ROOT, "%-30s %s%n", "  --help", "print this help"));
    return sb.toString();
  }

  boolean has(String flag) {
    return flags.contains(flag) || values.containsKey(flag);
  }

  String get(String name) {
    String v = values.get(name);
    if (v != null) {
      return v;
    }
    String[] spec = options.get(name);
    return spec == null ? null : spec[0];
  }

  int getInt(String name) {
    String v = get(name);
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be an integer, got " + v, e);
    }
  }

  double getDouble(String name) {
    String v = get(name);
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number, got " + v, e);
    }
  }

  Path getPath(String name) {
    String v = get(name);
    return v == null ? null : Path.of(v);
  }

  List<String> positional() {
    return positional;
  }
}
