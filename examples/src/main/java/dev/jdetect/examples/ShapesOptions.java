package dev.jdetect.examples;

import dev.jdetect.examples.cli.Values;
import picocli.CommandLine.Option;

/** The size of a generated shapes set; each main sets its own default. */
final class ShapesOptions {

  @Option(
      names = "--images",
      paramLabel = "N",
      converter = Values.Positive.class,
      description = "Generated shapes images (80%% train, 20%% validation).")
  int images;

  ShapesOptions(int images) {
    this.images = images;
  }
}
