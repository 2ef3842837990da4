package dev.jdetect.models.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A PyTorch {@code state_dict}: named tensors in file order, as read from a {@code torch.save} file
 * (the {@code .pth} files torchvision publishes), a {@code .npz} (numpy {@code savez} of {@code
 * {name: tensor.numpy()}}) or a {@code .safetensors} file.
 *
 * <p>Write one from Python with, for example:
 *
 * <pre>{@code
 * sd = torchvision.models.detection.ssd300_vgg16(weights="DEFAULT").state_dict()
 * numpy.savez("ssd300.npz", **{k: v.numpy() for k, v in sd.items()})
 * # or: safetensors.torch.save_file(sd, "ssd300.safetensors")
 * }</pre>
 *
 * <p>The arrays belong to the manager given to the loader; close that manager (or the arrays) once
 * they have been copied into a block with {@link WeightImport}.
 */
public final class StateDict {

  private final Map<String, NDArray> arrays;

  private StateDict(Map<String, NDArray> arrays) {
    this.arrays = Collections.unmodifiableMap(arrays);
  }

  /**
   * Wraps named arrays (insertion order kept).
   *
   * @param arrays tensors by their torchvision name
   * @return the state dict
   */
  public static StateDict of(Map<String, NDArray> arrays) {
    return new StateDict(new LinkedHashMap<>(arrays));
  }

  /**
   * Reads a {@code torch.save} file ({@code .pth}, {@code .pt}, {@code .bin}: zip or legacy
   * layout), a {@code .npz} or a {@code .safetensors} file, chosen by the file name's extension.
   *
   * <p>{@code torch.save} files are parsed without running anything they contain: a file whose
   * pickle names anything but tensors, storages and dicts (a pickled model, {@code os.system}) is
   * refused with an {@link UnsafePickleException}.
   *
   * @param manager the manager that owns the arrays read
   * @param path the file
   * @return the state dict
   * @throws IOException if the file cannot be read or is malformed
   * @throws IllegalArgumentException if the extension is none of those
   */
  public static StateDict load(NDManager manager, Path path) throws IOException {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".safetensors")) {
      return SafetensorsReader.read(manager, path);
    }
    if (name.endsWith(".pth") || name.endsWith(".pt") || name.endsWith(".bin")) {
      return PthReader.read(manager, path);
    }
    if (name.endsWith(".npz")) {
      try (InputStream is = new BufferedInputStream(Files.newInputStream(path))) {
        return fromNpz(manager, is);
      }
    }
    throw new IllegalArgumentException(
        "path must end in .pth, .pt, .bin (torch.save), .npz or .safetensors, got "
            + path.getFileName());
  }

  /**
   * Reads a numpy {@code .npz} archive whose entry names are the tensor names.
   *
   * @param manager the manager that owns the arrays read
   * @param is the archive bytes (not closed)
   * @return the state dict
   * @throws IOException if the archive is malformed or an entry is unnamed
   */
  public static StateDict fromNpz(NDManager manager, InputStream is) throws IOException {
    NDList list;
    try {
      list = NDList.decode(manager, is);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new IOException("not a readable .npz archive: " + e.getMessage(), e);
    }
    Map<String, NDArray> map = new LinkedHashMap<>();
    for (NDArray array : list) {
      String n = array.getName();
      if (n == null || n.isEmpty()) {
        throw new IOException("npz entry without a name (saved positionally as arr_N?)");
      }
      map.put(n, array);
    }
    return new StateDict(map);
  }

  /**
   * Reads a {@code .safetensors} file (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL).
   *
   * @param manager the manager that owns the arrays read
   * @param path the file
   * @return the state dict
   * @throws IOException if the file cannot be read or is malformed
   */
  public static StateDict fromSafetensors(NDManager manager, Path path) throws IOException {
    return SafetensorsReader.read(manager, path);
  }

  /**
   * Returns the tensors by name, in file order.
   *
   * @return an unmodifiable map
   */
  public Map<String, NDArray> arrays() {
    return arrays;
  }

  /**
   * Returns the tensor names, in file order.
   *
   * @return an unmodifiable set
   */
  public Set<String> names() {
    return arrays.keySet();
  }

  /**
   * Returns one tensor.
   *
   * @param name the torchvision name
   * @return the tensor, or {@code null} if absent
   */
  public NDArray get(String name) {
    return arrays.get(name);
  }

  /**
   * Returns the number of tensors.
   *
   * @return the size
   */
  public int size() {
    return arrays.size();
  }
}
