package dev.jdetect.examples.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.CommandLine.ParameterException;

/**
 * Runs an example or benchmark command (a picocli {@code @Command} class implementing {@code
 * Callable<Integer>}) with the format and error handling every main shares:
 *
 * <ul>
 *   <li>{@code -h, --help}: {@code Usage: <name> [OPTIONS]...}, the description, then {@code
 *       Options:} in declaration order with their defaults; exit code 0;
 *   <li>a bad argument (unknown option, a value of the wrong type or out of range, a missing
 *       parameter): one line {@code <name>: error: <what is wrong>}, the {@code Usage:} line and a
 *       pointer to {@code --help} on the error stream; exit code {@value #USAGE_ERROR};
 *   <li>a failure while running (a missing file, malformed data): one line {@code <name>: error:
 *       <message>}; exit code {@value #FAILURE}. Unexpected exceptions also print their stack
 *       trace.
 * </ul>
 */
public final class Cli {

  /** The exit code of a command line that cannot be parsed or has a bad value. */
  public static final int USAGE_ERROR = 2;

  /** The exit code of a run that failed. */
  public static final int FAILURE = 1;

  private static final int WIDTH = 100;

  private Cli() {}

  /**
   * Runs a command as a program's {@code main} does: exits the JVM with the command's exit code
   * when it is not 0 (and returns normally otherwise, so that a main run inside a build tool does
   * not end the build).
   *
   * @param command the command class
   * @param args the command-line arguments
   */
  public static void main(Class<?> command, String[] args) {
    int code =
        execute(
            command,
            new PrintWriter(System.out, true, StandardCharsets.UTF_8),
            new PrintWriter(System.err, true, StandardCharsets.UTF_8),
            args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Runs a command and returns its exit code.
   *
   * @param command the command class (instantiated by picocli; a private constructor is fine)
   * @param out where help and normal output of the parser go
   * @param err where errors go
   * @param args the command-line arguments
   * @return 0 on success or help, {@link #USAGE_ERROR} for a bad command line, {@link #FAILURE} or
   *     the command's own code otherwise
   */
  public static int execute(Class<?> command, PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = commandLine(command);
    cli.setOut(out);
    cli.setErr(err);
    try {
      return cli.execute(args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /**
   * Builds the picocli command line of a command with the shared help format and handlers.
   *
   * @param command the command class
   * @return the command line
   */
  public static CommandLine commandLine(Class<?> command) {
    CommandLine cli = new CommandLine(command);
    CommandSpec spec = cli.getCommandSpec();
    spec.addOption(
        OptionSpec.builder("-h", "--help")
            .usageHelp(true)
            .description("Print this help and exit.")
            .build());
    UsageMessageSpec usage = spec.usageMessage();
    usage
        .synopsisHeading("Usage: ")
        .abbreviateSynopsis(true)
        .descriptionHeading("%n")
        .parameterListHeading("%nArguments:%n")
        .optionListHeading("%nOptions:%n")
        .showDefaultValues(true)
        .sortOptions(false)
        .width(WIDTH);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler(Cli::usageError);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> failure(e, commandLine.getCommandName(), cli.getErr()));
    return cli;
  }

  private static int usageError(ParameterException e, String[] args) {
    CommandLine cli = e.getCommandLine();
    PrintWriter err = cli.getErr();
    err.println(cli.getCommandName() + ": error: " + oneLine(e.getMessage()));
    CommandLine.Help help = cli.getHelp();
    err.print(help.synopsisHeading() + help.synopsis(0));
    err.println("Run '" + cli.getCommandName() + " --help' for all options.");
    return USAGE_ERROR;
  }

  private static int failure(Exception e, String name, PrintWriter err) {
    err.println(name + ": error: " + oneLine(String.valueOf(e.getMessage())));
    boolean expected =
        e instanceof IllegalArgumentException
            || e instanceof IOException
            || e instanceof UncheckedIOException;
    if (!expected) {
      e.printStackTrace(err);
    }
    return FAILURE;
  }

  private static String oneLine(String message) {
    return message.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  /**
   * Returns a usage error for a value that passed parsing but not a check across options.
   *
   * @param spec the command's spec (inject it with {@code @Spec})
   * @param message what is wrong, naming the options
   * @return the exception to throw from the command
   */
  public static ParameterException badUsage(CommandSpec spec, String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
