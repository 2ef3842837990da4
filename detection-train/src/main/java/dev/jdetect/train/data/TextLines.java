package dev.jdetect.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the plain-text lists of datasets (image sets, class lists). Package-private. */
final class TextLines {

  /** The byte order mark some editors put at the start of a UTF-8 file. */
  static final char BOM = '\uFEFF';

  private TextLines() {}

  /** Removes a leading byte order mark. */
  static String stripBom(String s) {
    return !s.isEmpty() && s.charAt(0) == BOM ? s.substring(1) : s;
  }

  /**
   * Reads a UTF-8 file's non-blank lines, trimmed, without a leading byte order mark.
   *
   * @throws DatasetFormatException if the file does not exist or cannot be read
   */
  static List<String> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DatasetFormatException(file, -1, null, "file does not exist");
    }
    try {
      List<String> out = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String t = (out.isEmpty() ? stripBom(line) : line).trim();
        if (!t.isEmpty()) {
          out.add(t);
        }
      }
      return out;
    } catch (IOException e) {
      throw new DatasetFormatException(file, -1, null, "cannot read: " + e.getMessage(), e);
    }
  }
}
