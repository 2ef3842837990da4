package dev.jdetect.examples.cli;

import dev.jdetect.models.zoo.ModelZoo;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The names of {@link ModelZoo#builtin()} for a {@code --model} option: as completion candidates
 * ({@code ${COMPLETION-CANDIDATES}} in the help) and as a converter that rejects unknown names.
 */
public final class ModelNames implements Iterable<String> {

  /** Creates the candidate list. */
  public ModelNames() {}

  @Override
  public Iterator<String> iterator() {
    return ModelZoo.builtin().names().iterator();
  }

  /** Accepts the names of {@link ModelZoo#builtin()}. */
  public static final class Known implements ITypeConverter<String> {
    /** Creates the converter. */
    public Known() {}

    @Override
    public String convert(String value) {
      ModelZoo zoo = ModelZoo.builtin();
      if (!zoo.contains(value)) {
        throw new TypeConversionException(
            "unknown model '" + value + "', expected one of " + String.join(", ", zoo.names()));
      }
      return value;
    }
  }
}
