package dev.jdetect.models.inference;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the block of a saved jdetect model for DJL's {@code Criteria} ({@code serving.properties}
 * names it as {@code blockFactory}): the architecture {@code model.json} names, from the built-in
 * model zoo, initialised in the model's manager with the weights of {@code model.safetensors}, and
 * wrapped in an {@link InferenceBlock}. Every predictor of the model shares these weights.
 */
public final class DetectionBlockFactory implements BlockFactory {

  private static final long serialVersionUID = 1L;

  /** {@inheritDoc} */
  @Override
  public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments) throws IOException {
    return new InferenceBlock(SavedModel.load(modelPath, model.getNDManager()));
  }
}
