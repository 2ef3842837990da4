package dev.jdetect.models.inference;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.backbone.FrozenBatchNormFolding;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the block of a saved jdetect model for DJL's {@code Criteria} ({@code serving.properties}
 * names it as {@code blockFactory}): the architecture {@code model.json} names, from the built-in
 * model zoo, initialised in the model's manager with the weights of {@code model.safetensors}, and
 * wrapped in an {@link InferenceBlock}. Every predictor of the model shares these weights.
 *
 * <p>The argument {@code foldBatchNorm=true} ({@code option.foldBatchNorm} in {@code
 * serving.properties}, or {@code Criteria.optArgument}) folds the frozen batch norms into their
 * convolutions ({@link FrozenBatchNormFolding}): faster, equal to float32 rounding, the saved
 * weights untouched.
 */
public final class DetectionBlockFactory implements BlockFactory {

  private static final long serialVersionUID = 1L;

  /** {@inheritDoc} */
  @Override
  public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) throws IOException {
    DetectionModel block = SavedModel.load(modelPath, model.getNDManager());
    if (Boolean.parseBoolean(String.valueOf(arguments.get("foldBatchNorm")))) {
      FrozenBatchNormFolding.fold(block);
    }
    return new InferenceBlock(block);
  }
}
