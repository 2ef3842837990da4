package dev.jdetect.models.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Copies a torchvision {@link StateDict} into an initialised DJL block, matching tensors to
 * parameters by the names {@link TorchvisionNames} derives from the block tree.
 *
 * <pre>{@code
 * Ssd model = SsdModels.ssd300Vgg16(90);
 * model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 300, 300));
 * WeightImport.load(model, Path.of("ssd300_vgg16.npz"));
 * // or, keeping a subset: load the backbone of a detector checkpoint into a backbone block
 * WeightImport.builder().optSourcePrefix("backbone.").build().apply(backbone, stateDict);
 * }</pre>
 *
 * <p>Strict mode (the default) throws a {@link WeightImportException} listing every missing,
 * unexpected and mis-shaped name and copies nothing; lenient mode copies what matches and returns
 * the {@link ImportReport}. PyTorch's {@code num_batches_tracked} buffers are always ignored.
 * Values are converted to each parameter's data type and device.
 */
public final class WeightImport {

  private final boolean strict;
  private final String sourcePrefix;
  private final Predicate<String> exclude;
  private final UnaryOperator<String> rename;

  private WeightImport(Builder builder) {
    this.strict = builder.strict;
    this.sourcePrefix = builder.sourcePrefix;
    this.exclude = builder.exclude;
    this.rename = builder.rename;
  }

  /**
   * Creates a builder: strict, no prefix, nothing excluded.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads with the default (strict) settings.
   *
   * @param block an initialised block
   * @param stateDict the tensors
   * @return the report (complete, since strict mode throws otherwise)
   * @throws WeightImportException if any name is missing, unexpected or mis-shaped
   * @throws IllegalStateException if the block is not initialised
   */
  public static ImportReport load(Block block, StateDict stateDict) {
    return builder().build().apply(block, stateDict);
  }

  /**
   * Loads a {@code .npz} or {@code .safetensors} file with the default (strict) settings; the
   * file's arrays are freed once copied.
   *
   * @param block an initialised block
   * @param file the state dict file
   * @return the report (complete, since strict mode throws otherwise)
   * @throws IOException if the file cannot be read
   * @throws WeightImportException if any name is missing, unexpected or mis-shaped
   * @throws IllegalStateException if the block is not initialised
   */
  public static ImportReport load(Block block, Path file) throws IOException {
    return builder().build().apply(block, file);
  }

  /**
   * Reads a {@code .npz} or {@code .safetensors} file and copies it into the block as {@link
   * #apply(Block, StateDict)} does; the file's arrays are freed once copied.
   *
   * @param block an initialised block
   * @param file the state dict file
   * @return what was loaded, missing, unexpected and mis-shaped
   * @throws IOException if the file cannot be read
   * @throws WeightImportException in strict mode if the report is not complete
   * @throws IllegalStateException if a parameter of the block is not initialised
   */
  public ImportReport apply(Block block, Path file) throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      return apply(block, StateDict.load(manager, file));
    }
  }

  /**
   * Copies the matching tensors into the block's parameters.
   *
   * @param block an initialised block
   * @param stateDict the tensors
   * @return what was loaded, missing, unexpected and mis-shaped
   * @throws WeightImportException in strict mode if the report is not complete
   * @throws IllegalStateException if a parameter of the block is not initialised
   */
  public ImportReport apply(Block block, StateDict stateDict) {
    Map<String, Parameter> params = TorchvisionNames.of(block);
    Map<String, NDArray> source = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : stateDict.arrays().entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(sourcePrefix)) {
        continue;
      }
      name = rename.apply(name.substring(sourcePrefix.length()));
      if (name.endsWith("num_batches_tracked") || exclude.test(name)) {
        continue;
      }
      if (source.put(name, e.getValue()) != null) {
        throw new IllegalArgumentException(
            "two tensors of the state dict map to the parameter name " + name);
      }
    }
    List<String> loaded = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    List<String> misshaped = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    Map<Parameter, NDArray> copies = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      String name = e.getKey();
      if (exclude.test(name)) {
        continue;
      }
      Parameter p = e.getValue();
      if (!p.isInitialized()) {
        throw new IllegalStateException(
            "parameter "
                + name
                + " of "
                + block.getClass().getSimpleName()
                + " is not initialised; call block.initialize(...) before importing weights");
      }
      NDArray src = source.get(name);
      if (src == null) {
        missing.add(name);
        continue;
      }
      Shape want = p.getArray().getShape();
      Shape got = src.getShape();
      if (!want.equals(got)) {
        misshaped.add(name + ": file " + got + " vs block " + want);
        continue;
      }
      loaded.add(name);
      copies.put(p, src);
    }
    for (String name : source.keySet()) {
      if (!params.containsKey(name)) {
        unexpected.add(name);
      }
    }
    ImportReport report = new ImportReport(loaded, missing, unexpected, misshaped);
    if (strict && !report.isComplete()) {
      throw new WeightImportException(report);
    }
    for (Map.Entry<Parameter, NDArray> e : copies.entrySet()) {
      copyInto(e.getKey().getArray(), e.getValue());
    }
    return report;
  }

  private static void copyInto(NDArray dst, NDArray src) {
    try (NDManager scope = dst.getManager().newSubManager()) {
      NDArray value = src;
      if (value.getDataType() != dst.getDataType()) {
        value = value.toType(dst.getDataType(), true);
      }
      value.tempAttach(scope);
      dst.set(value.toByteBuffer());
    }
  }

  /** Builder for {@link WeightImport}. */
  public static final class Builder {
    private boolean strict = true;
    private String sourcePrefix = "";
    private Predicate<String> exclude = name -> false;
    private UnaryOperator<String> rename = UnaryOperator.identity();

    private Builder() {}

    /**
     * Sets strict mode (default true): any missing, unexpected or mis-shaped name throws and
     * nothing is copied. In lenient mode matching tensors are copied and the rest reported.
     *
     * @param strict whether to throw on any disagreement
     * @return this builder
     */
    public Builder optStrict(boolean strict) {
      this.strict = strict;
      return this;
    }

    /**
     * Reads only the tensors whose names start with this prefix, with the prefix removed, e.g.
     * {@code "backbone."} to load a detector checkpoint's backbone into a backbone block.
     *
     * @param sourcePrefix the prefix, default empty
     * @return this builder
     */
    public Builder optSourcePrefix(String sourcePrefix) {
      if (sourcePrefix == null) {
        throw new IllegalArgumentException("sourcePrefix must not be null");
      }
      this.sourcePrefix = sourcePrefix;
      return this;
    }

    /**
     * Leaves out names (after prefix removal) on both sides: excluded parameters keep their values
     * and are not reported missing, excluded tensors are not reported unexpected. Use it e.g. to
     * skip a classifier whose class count differs when fine-tuning.
     *
     * @param exclude true for names to leave out
     * @return this builder
     */
    public Builder optExclude(Predicate<String> exclude) {
      if (exclude == null) {
        throw new IllegalArgumentException("exclude must not be null");
      }
      this.exclude = exclude;
      return this;
    }

    /**
     * Renames the tensors of the state dict (after the source prefix is removed, before {@link
     * #optExclude} is applied) to the torchvision names of the block, e.g. to load an ImageNet
     * classifier's {@code classifier.0.*} into a detector's {@code roi_heads.box_head.fc6.*}.
     *
     * @param rename maps a state dict name to a parameter name (identity by default)
     * @return this builder
     */
    public Builder optRename(UnaryOperator<String> rename) {
      if (rename == null) {
        throw new IllegalArgumentException("rename must not be null");
      }
      this.rename = rename;
      return this;
    }

    /**
     * Builds the importer.
     *
     * @return the importer
     */
    public WeightImport build() {
      return new WeightImport(this);
    }
  }
}
