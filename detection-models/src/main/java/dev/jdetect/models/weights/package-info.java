/**
 * torchvision weight import and name mapping.
 *
 * <p>{@link dev.jdetect.models.weights.StateDict} reads a PyTorch {@code state_dict} saved as
 * {@code .npz} or {@code .safetensors}; {@link dev.jdetect.models.weights.TorchvisionNames} derives
 * torchvision names from a DJL block tree (children named after torchvision attributes, {@code
 * SequentialBlock} positions as indices, BatchNorm {@code gamma/beta/runningMean/runningVar} as
 * {@code weight/bias/running_mean/running_var}); {@link dev.jdetect.models.weights.WeightImport}
 * copies the tensors into an initialised block, strictly (a {@link
 * dev.jdetect.models.weights.WeightImportException} lists every missing, unexpected and mis-shaped
 * name) or leniently (an {@link dev.jdetect.models.weights.ImportReport}).
 *
 * <p>DJL's own format ({@code Model.save/load}, {@code Block.saveParameters/loadParameters}) works
 * for every jdetect model as for any DJL block.
 */
package dev.jdetect.models.weights;
