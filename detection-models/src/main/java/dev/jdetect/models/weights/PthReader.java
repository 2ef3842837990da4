package dev.jdetect.models.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.models.weights.RestrictedUnpickler.StorageRef;
import dev.jdetect.models.weights.RestrictedUnpickler.TensorSpec;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a {@code state_dict} saved by {@code torch.save}, in either of its two layouts:
 *
 * <ul>
 *   <li>the zip layout (PyTorch 1.6 and later): {@code <name>/data.pkl} holds the pickled dict and
 *       {@code <name>/data/<key>} the raw bytes of each storage;
 *   <li>the legacy layout that many published checkpoints still use: five pickles in a row (magic
 *       number, protocol version, system info, the dict, the storage keys), then each storage as an
 *       8-byte element count followed by its bytes.
 * </ul>
 *
 * <p>The pickles go through {@link RestrictedUnpickler}, so a file that asks for anything but
 * tensors, storages and dicts is refused unrun. Storages are read one at a time into native memory;
 * the Java heap holds only the pickled structure.
 */
final class PthReader {

  private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
  private static final long LEGACY_PROTOCOL = 1001;

  private final NDManager manager;
  private final String source;

  private PthReader(NDManager manager, Path path) {
    this.manager = manager;
    this.source = path.toString();
  }

  static StateDict read(NDManager manager, Path path) throws IOException {
    PthReader reader = new PthReader(manager, path);
    byte[] head;
    try (InputStream in = Files.newInputStream(path)) {
      head = in.readNBytes(4);
    }
    if (head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
      return reader.readZip(path);
    }
    if (head.length >= 2 && (head[0] & 0xFF) == 0x80) {
      return reader.readLegacy(path);
    }
    throw new IOException(
        path + ": not a torch.save file (neither a zip archive nor a pickle stream)");
  }

  private StateDict readZip(Path path) throws IOException {
    try (ZipFile zip = new ZipFile(path.toFile())) {
      String prefix = null;
      for (ZipEntry e : Collections.list(zip.entries())) {
        String n = e.getName();
        int slash = n.indexOf('/');
        if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
          if (prefix != null) {
            throw new IOException(source + ": more than one data.pkl in the archive");
          }
          prefix = n.substring(0, slash + 1);
        }
      }
      if (prefix == null) {
        throw new IOException(
            source + ": zip archive without <name>/data.pkl: not a torch.save file");
      }
      Map<String, StorageRef> storages = new LinkedHashMap<>();
      Object top;
      try (InputStream in =
          new BufferedInputStream(zip.getInputStream(zip.getEntry(prefix + "data.pkl")))) {
        top = RestrictedUnpickler.load(in, source, pid -> storage(pid, storages, false));
      }
      Map<String, TensorSpec> specs = stateDict(top);
      Map<String, NDArray> data = new HashMap<>();
      try {
        for (StorageRef ref : storages.values()) {
          ZipEntry entry = zip.getEntry(prefix + "data/" + ref.key());
          if (entry == null) {
            throw new IOException(source + ": storage " + ref.key() + " missing from the archive");
          }
          long want = ref.numel() * ref.type().fileBytes();
          if (entry.getSize() >= 0 && entry.getSize() != want) {
            throw new IOException(
                source
                    + ": storage "
                    + ref.key()
                    + " has "
                    + entry.getSize()
                    + " bytes, its tensors need "
                    + want);
          }
          try (InputStream in = zip.getInputStream(entry)) {
            data.put(ref.key(), storageArray(in, ref));
          }
        }
        return tensors(specs, data);
      } finally {
        data.values().forEach(NDArray::close);
      }
    } catch (ZipException e) {
      throw new IOException(source + ": damaged zip archive (" + e.getMessage() + ")", e);
    }
  }

  private StateDict readLegacy(Path path) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
      Object magic = RestrictedUnpickler.load(in, source, noStorages());
      if (!LEGACY_MAGIC.equals(magic instanceof Long ? BigInteger.valueOf((Long) magic) : magic)) {
        throw new IOException(source + ": pickle stream without torch.save's magic number");
      }
      Object protocol = RestrictedUnpickler.load(in, source, noStorages());
      if (!Long.valueOf(LEGACY_PROTOCOL).equals(protocol)) {
        throw new IOException(source + ": unsupported torch.save protocol " + protocol);
      }
      Object sysInfo = RestrictedUnpickler.load(in, source, noStorages());
      if (!(sysInfo instanceof Map)
          || !Boolean.TRUE.equals(((Map<?, ?>) sysInfo).get("little_endian"))) {
        throw new IOException(source + ": only little-endian torch.save files are read");
      }
      Map<String, StorageRef> storages = new LinkedHashMap<>();
      Object top = RestrictedUnpickler.load(in, source, pid -> storage(pid, storages, true));
      Map<String, TensorSpec> specs = stateDict(top);
      Object keys = RestrictedUnpickler.load(in, source, noStorages());
      if (!(keys instanceof List)) {
        throw new IOException(source + ": storage key list missing after the state_dict");
      }
      Map<String, NDArray> data = new HashMap<>();
      try {
        for (Object key : (List<?>) keys) {
          StorageRef ref = storages.get(String.valueOf(key));
          long count = littleEndianLong(in.readNBytes(8));
          if (ref == null) {
            throw new IOException(source + ": storage " + key + " is not used by any tensor");
          }
          if (count != ref.numel()) {
            throw new IOException(
                source
                    + ": storage "
                    + key
                    + " holds "
                    + count
                    + " elements, expected "
                    + ref.numel());
          }
          data.put(ref.key(), storageArray(in, ref));
        }
        return tensors(specs, data);
      } finally {
        data.values().forEach(NDArray::close);
      }
    }
  }

  private long littleEndianLong(byte[] b) throws IOException {
    if (b.length != 8) {
      throw new EOFException(source + ": file ends inside the storage data (truncated?)");
    }
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  private RestrictedUnpickler.PersistentLoader noStorages() {
    return pid -> {
      throw new IOException(source + ": unexpected storage reference in the file header");
    };
  }

  private StorageRef storage(List<Object> pid, Map<String, StorageRef> storages, boolean legacy)
      throws IOException {
    if (pid.size() < 5 || !"storage".equals(pid.get(0)) || !(pid.get(1) instanceof StorageType)) {
      throw new IOException(source + ": unknown persistent id " + pid);
    }
    if (legacy && pid.size() > 5 && pid.get(5) != null) {
      throw new IOException(source + ": storage views of pre-1.0 PyTorch files are not supported");
    }
    StorageType type = (StorageType) pid.get(1);
    String key = String.valueOf(pid.get(2));
    if (!(pid.get(4) instanceof Long) || (Long) pid.get(4) < 0) {
      throw new IOException(source + ": storage " + key + " has an invalid size " + pid.get(4));
    }
    StorageRef ref = new StorageRef(key, type, (Long) pid.get(4));
    StorageRef known = storages.putIfAbsent(key, ref);
    if (known != null && !known.equals(ref)) {
      throw new IOException(source + ": storage " + key + " is described twice, differently");
    }
    return known != null ? known : ref;
  }

  private Map<String, TensorSpec> stateDict(Object top) throws IOException {
    if (!(top instanceof Map)) {
      String what = top == null ? "None" : top instanceof List ? "a list or tuple" : top.toString();
      throw new IOException(source + ": not a state_dict: the file holds " + what);
    }
    Map<String, TensorSpec> specs = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) top).entrySet()) {
      if (!(e.getKey() instanceof String) || !(e.getValue() instanceof TensorSpec)) {
        throw new IOException(
            source
                + ": not a state_dict of tensors: entry '"
                + e.getKey()
                + "' holds "
                + (e.getValue() instanceof Map
                    ? "a dict (a training checkpoint? save its model" + " state_dict alone)"
                    : String.valueOf(e.getValue())));
      }
      specs.put((String) e.getKey(), (TensorSpec) e.getValue());
    }
    return specs;
  }

  private NDArray storageArray(InputStream in, StorageRef ref) throws IOException {
    long bytes = ref.numel() * ref.type().fileBytes();
    if (bytes > Integer.MAX_VALUE) {
      throw new IOException(source + ": storage " + ref.key() + " is larger than 2 GB");
    }
    ByteBuffer raw = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    byte[] chunk = new byte[1 << 16];
    while (raw.hasRemaining()) {
      int n = in.read(chunk, 0, Math.min(chunk.length, raw.remaining()));
      if (n < 0) {
        throw new EOFException(
            source + ": file ends inside storage " + ref.key() + " (truncated?)");
      }
      raw.put(chunk, 0, n);
    }
    raw.flip();
    if (ref.type() == StorageType.SHORT || ref.type() == StorageType.BFLOAT16) {
      raw = Widening.widen(raw, ref.type() == StorageType.BFLOAT16);
    }
    return manager.create(raw, new Shape(ref.numel()), ref.type().dataType());
  }

  private StateDict tensors(Map<String, TensorSpec> specs, Map<String, NDArray> data)
      throws IOException {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, TensorSpec> e : specs.entrySet()) {
      NDArray array = tensor(e.getKey(), e.getValue(), data.get(e.getValue().storage().key()));
      array.setName(e.getKey());
      out.put(e.getKey(), array);
    }
    return StateDict.of(out);
  }

  /** Copies a tensor's elements out of its storage (the storage's memory is freed afterwards). */
  private NDArray tensor(String name, TensorSpec spec, NDArray storage) throws IOException {
    Shape shape = new Shape(spec.size());
    DataType type = storage.getDataType();
    long count = shape.size();
    long last = spec.offset();
    for (int i = 0; i < spec.size().length; i++) {
      if (spec.size()[i] < 0 || spec.stride()[i] < 0) {
        throw new IOException(source + ": tensor " + name + " has a negative size or stride");
      }
      last += (spec.size()[i] - 1) * spec.stride()[i];
    }
    if (count == 0) {
      return manager.zeros(shape, type);
    }
    if (spec.offset() < 0 || last >= spec.storage().numel()) {
      throw new IOException(
          source
              + ": tensor "
              + name
              + " reads past its storage ("
              + spec.storage().numel()
              + " elements)");
    }
    NDArray flat;
    if (contiguous(spec)) {
      flat = storage.get(new NDIndex("{}:{}", spec.offset(), spec.offset() + count));
    } else {
      long[] index = new long[Math.toIntExact(count)];
      long[] pos = new long[spec.size().length];
      for (int k = 0; k < index.length; k++) {
        long at = spec.offset();
        for (int d = 0; d < pos.length; d++) {
          at += pos[d] * spec.stride()[d];
        }
        index[k] = at;
        for (int d = pos.length - 1; d >= 0 && ++pos[d] == spec.size()[d]; d--) {
          pos[d] = 0;
        }
      }
      try (NDArray idx = manager.create(index)) {
        flat = storage.get(new NDIndex("{}", idx));
      }
    }
    NDArray reshaped = flat.reshape(shape);
    NDArray result = reshaped.duplicate();
    reshaped.close();
    flat.close();
    return result;
  }

  private static boolean contiguous(TensorSpec spec) {
    long expected = 1;
    for (int d = spec.size().length - 1; d >= 0; d--) {
      if (spec.size()[d] != 1 && spec.stride()[d] != expected) {
        return false;
      }
      expected *= spec.size()[d];
    }
    return true;
  }
}
