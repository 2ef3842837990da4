package dev.jdetect.models.weights;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one Python pickle stream, accepting only what a PyTorch {@code state_dict} needs.
 *
 * <p>Nothing in the stream is executed or instantiated: the only globals it may name are {@code
 * collections.OrderedDict}, the tensor rebuild functions of {@code torch._utils} and the typed
 * storage classes; any other global ({@code os.system}, a model class, ...) is refused with an
 * {@link UnsafePickleException} at the opcode that names it, before anything else is read. Values
 * come back as plain Java objects: {@code Long} / {@code BigInteger}, {@code Double}, {@code
 * Boolean}, {@code String}, {@code byte[]}, {@code null}, {@link List} (lists and tuples), {@link
 * Map} (dicts, in insertion order), {@link TensorSpec} for tensors, {@link StorageRef} for the
 * storages they view and {@link StorageType} for the storage classes named in persistent ids.
 * Persistent ids (how {@code torch.save} refers to storages) are resolved by the caller's function.
 *
 * <p>Written for this reader rather than taken from a general pickle library: the whitelist has to
 * hold at every opcode that can name or call a global, and a state dict needs about forty of
 * pickle's opcodes; a general library constructs objects for unknown classes by default.
 */
final class RestrictedUnpickler {

  /** Resolves a persistent id tuple ({@code BINPERSID}) to a storage. */
  interface PersistentLoader {
    StorageRef load(List<Object> pid) throws IOException;
  }

  /** A storage that tensors view: its key in the file, element type and element count. */
  record StorageRef(String key, StorageType type, long numel) {}

  /** A tensor as {@code torch._utils._rebuild_tensor_v2} describes it. */
  record TensorSpec(StorageRef storage, long offset, long[] size, long[] stride) {}

  /** A global the stream named; only whitelisted ones are ever created. */
  private record Global(String module, String name) {
    String qualified() {
      return module + "." + name;
    }
  }

  private static final Object MARK = new Object();
  private static final Set<String> CALLABLE =
      Set.of(
          "collections.OrderedDict",
          "torch._utils._rebuild_tensor_v2",
          "torch._utils._rebuild_parameter");
  private static final int MAX_MEMO = 10_000_000;

  private final PickleBytes in;
  private final String source;
  private final PersistentLoader persistent;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();

  private RestrictedUnpickler(InputStream in, String source, PersistentLoader persistent) {
    this.in = new PickleBytes(in, source);
    this.source = source;
    this.persistent = persistent;
  }

  /**
   * Reads one pickle from the stream, up to and including its {@code STOP} opcode.
   *
   * @param in the stream, positioned at the pickle (bytes after {@code STOP} are not read)
   * @param source the file name, for messages
   * @param persistent resolves storages
   * @return the unpickled value
   * @throws UnsafePickleException if the stream names a global outside the whitelist
   * @throws IOException if the stream is truncated or malformed
   */
  static Object load(InputStream in, String source, PersistentLoader persistent)
      throws IOException {
    return new RestrictedUnpickler(in, source, persistent).run();
  }

  private Object run() throws IOException {
    while (true) {
      long at = in.position();
      int op = in.u8();
      switch (op) {
        case 0x80: // PROTO
          int protocol = in.u8();
          if (protocol > 5) {
            throw malformed("pickle protocol " + protocol + " is newer than 5", at);
          }
          break;
        case 0x95: // FRAME: only a length hint
          in.bytes(8);
          break;
        case '.': // STOP
          if (stack.size() != 1 || !marks.isEmpty()) {
            throw malformed("pickle ends with " + stack.size() + " values on the stack", at);
          }
          return stack.get(0);
        case '(':
          marks.add(stack.size());
          stack.add(MARK);
          break;
        case ')':
          push(List.of());
          break;
        case 't':
          push(tuple(popToMark(at).toArray()));
          break;
        case 0x85:
          push(tuple(pop(at)));
          break;
        case 0x86:
          {
            Object b = pop(at);
            push(tuple(pop(at), b));
            break;
          }
        case 0x87:
          {
            Object c = pop(at);
            Object b = pop(at);
            push(tuple(pop(at), b, c));
            break;
          }
        case ']':
          push(new ArrayList<>());
          break;
        case 'l':
          push(new ArrayList<>(popToMark(at)));
          break;
        case 'a':
          {
            Object v = pop(at);
            listAt(at).add(v);
            break;
          }
        case 'e':
          {
            List<Object> items = popToMark(at);
            listAt(at).addAll(items);
            break;
          }
        case '}':
          push(new LinkedHashMap<>());
          break;
        case 'd':
          {
            Map<Object, Object> map = new LinkedHashMap<>();
            putPairs(map, popToMark(at), at);
            push(map);
            break;
          }
        case 's':
          {
            Object v = pop(at);
            Object k = pop(at);
            mapAt(at).put(k, v);
            break;
          }
        case 'u':
          {
            List<Object> items = popToMark(at);
            putPairs(mapAt(at), items, at);
            break;
          }
        case 'q':
          remember(in.u8(), at);
          break;
        case 'r':
          remember(in.u32(), at);
          break;
        case 0x94: // MEMOIZE
          remember(memo.size(), at);
          break;
        case 'h':
          push(recall(in.u8(), at));
          break;
        case 'j':
          push(recall(in.u32(), at));
          break;
        case 'J':
          push((long) in.i32());
          break;
        case 'K':
          push((long) in.u8());
          break;
        case 'M':
          push((long) (in.u8() | (in.u8() << 8)));
          break;
        case 0x8a: // LONG1
          push(PickleBytes.littleEndianInteger(in.bytes(in.u8())));
          break;
        case 'N':
          push(null);
          break;
        case 0x88:
          push(Boolean.TRUE);
          break;
        case 0x89:
          push(Boolean.FALSE);
          break;
        case 'G':
          push(Double.longBitsToDouble(new BigInteger(1, in.bytes(8)).longValue()));
          break;
        case 'X':
          push(in.text(in.u32(), at));
          break;
        case 0x8c:
          push(in.text(in.u8(), at));
          break;
        case 0x8d:
          push(in.text(in.u64(at), at));
          break;
        case 'T':
          push(in.text(in.u32(), at));
          break;
        case 'U':
          push(in.text(in.u8(), at));
          break;
        case 'B':
          push(in.bytes(in.checkedLength(in.u32(), at)));
          break;
        case 'C':
          push(in.bytes(in.u8()));
          break;
        case 'c':
          push(global(in.line(at), in.line(at), at));
          break;
        case 0x93: // STACK_GLOBAL
          {
            Object name = pop(at);
            Object module = pop(at);
            if (!(module instanceof String) || !(name instanceof String)) {
              throw malformed("STACK_GLOBAL needs two strings", at);
            }
            push(global((String) module, (String) name, at));
            break;
          }
        case 'R':
          {
            Object args = pop(at);
            Object callable = pop(at);
            push(call(callable, args, at));
            break;
          }
        case 'b':
          {
            Object state = pop(at);
            build(stack.isEmpty() ? null : stack.get(stack.size() - 1), state, at);
            break;
          }
        case 'Q':
          {
            Object pid = pop(at);
            if (!(pid instanceof List)) {
              throw malformed("persistent id is not a tuple", at);
            }
            @SuppressWarnings("unchecked")
            List<Object> tuple = (List<Object>) pid;
            push(persistent.load(tuple));
            break;
          }
        case '0':
          pop(at);
          break;
        case '1':
          popToMark(at);
          break;
        case '2':
          {
            Object top = pop(at);
            push(top);
            push(top);
            break;
          }
        default:
          throw new UnsafePickleException(
              source
                  + ": pickle opcode 0x"
                  + Integer.toHexString(op)
                  + " at byte "
                  + at
                  + " is not one a state_dict uses; refusing to read further");
      }
    }
  }

  private Object global(String module, String name, long at) throws IOException {
    StorageType storage = StorageType.fromGlobal(module, name);
    if (storage != null) {
      return storage;
    }
    Global g = new Global(module, name);
    if (CALLABLE.contains(g.qualified())) {
      return g;
    }
    throw new UnsafePickleException(
        source
            + ": the pickle references "
            + g.qualified()
            + " (byte "
            + at
            + "); only a state_dict's tensors, storages and OrderedDict are accepted, so the"
            + " file was not loaded (a whole pickled model or arbitrary code is never run)");
  }

  private Object call(Object callable, Object args, long at) throws IOException {
    if (!(callable instanceof Global) || !(args instanceof List)) {
      throw new UnsafePickleException(
          source + ": REDUCE at byte " + at + " calls something that is not a whitelisted global");
    }
    List<?> a = (List<?>) args;
    switch (((Global) callable).qualified()) {
      case "collections.OrderedDict":
        if (!a.isEmpty()) {
          throw malformed("OrderedDict called with arguments", at);
        }
        return new LinkedHashMap<>();
      case "torch._utils._rebuild_tensor_v2":
        return tensor(a, at);
      case "torch._utils._rebuild_parameter":
        if (a.isEmpty() || !(a.get(0) instanceof TensorSpec)) {
          throw malformed("_rebuild_parameter without a tensor", at);
        }
        return a.get(0);
      default:
        throw new UnsafePickleException(
            source
                + ": "
                + ((Global) callable).qualified()
                + " may not be called (byte "
                + at
                + ")");
    }
  }

  private TensorSpec tensor(List<?> a, long at) throws IOException {
    if (a.size() < 4 || !(a.get(0) instanceof StorageRef)) {
      throw malformed("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)", at);
    }
    StorageRef storage = (StorageRef) a.get(0);
    long offset = asLong(a.get(1), "storage offset", at);
    long[] size = longs(a.get(2), "size", at);
    long[] stride = longs(a.get(3), "stride", at);
    if (size.length != stride.length) {
      throw malformed("tensor size " + size.length + "-D but stride " + stride.length + "-D", at);
    }
    return new TensorSpec(storage, offset, size, stride);
  }

  private void build(Object target, Object state, long at) throws IOException {
    // an OrderedDict subclass carries its attributes as BUILD state: a state_dict has _metadata
    if (target instanceof Map && state instanceof Map) {
      for (Object key : ((Map<?, ?>) state).keySet()) {
        if (!"_metadata".equals(key)) {
          throw new UnsafePickleException(
              source + ": BUILD at byte " + at + " sets attribute '" + key + "' on a dict");
        }
      }
      return;
    }
    throw new UnsafePickleException(
        source + ": BUILD at byte " + at + " would set the state of a non-dict object");
  }

  private long[] longs(Object value, String what, long at) throws IOException {
    if (!(value instanceof List)) {
      throw malformed("tensor " + what + " is not a tuple", at);
    }
    List<?> list = (List<?>) value;
    long[] out = new long[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = asLong(list.get(i), what, at);
    }
    return out;
  }

  private long asLong(Object value, String what, long at) throws IOException {
    if (value instanceof Long) {
      return (Long) value;
    }
    throw malformed("tensor " + what + " is not an integer: " + value, at);
  }

  private void putPairs(Map<Object, Object> map, List<Object> items, long at) throws IOException {
    if (items.size() % 2 != 0) {
      throw malformed("odd number of items for a dict", at);
    }
    for (int i = 0; i < items.size(); i += 2) {
      map.put(items.get(i), items.get(i + 1));
    }
  }

  @SuppressWarnings("unchecked")
  private List<Object> listAt(long at) throws IOException {
    Object top = stack.isEmpty() ? null : stack.get(stack.size() - 1);
    if (!(top instanceof ArrayList)) {
      throw malformed("APPEND to something that is not a list", at);
    }
    return (List<Object>) top;
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> mapAt(long at) throws IOException {
    Object top = stack.isEmpty() ? null : stack.get(stack.size() - 1);
    if (!(top instanceof Map)) {
      throw malformed("SETITEM on something that is not a dict", at);
    }
    return (Map<Object, Object>) top;
  }

  /** A Python tuple: an unmodifiable list that may hold {@code None} ({@code null}). */
  private static List<Object> tuple(Object... items) {
    return Collections.unmodifiableList(Arrays.asList(items));
  }

  private void push(Object value) {
    stack.add(value);
  }

  private Object pop(long at) throws IOException {
    if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
      throw malformed("stack underflow", at);
    }
    return stack.remove(stack.size() - 1);
  }

  private List<Object> popToMark(long at) throws IOException {
    if (marks.isEmpty()) {
      throw malformed("no MARK on the stack", at);
    }
    int mark = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(mark + 1, stack.size()));
    stack.subList(mark, stack.size()).clear();
    return items;
  }

  private void remember(long index, long at) throws IOException {
    if (stack.isEmpty() || memo.size() >= MAX_MEMO) {
      throw malformed("cannot memoise", at);
    }
    memo.put(index, stack.get(stack.size() - 1));
  }

  private Object recall(long index, long at) throws IOException {
    if (!memo.containsKey(index)) {
      throw malformed("memo entry " + index + " was never stored", at);
    }
    return memo.get(index);
  }

  private IOException malformed(String what, long at) {
    return new IOException(source + ": malformed pickle at byte " + at + ": " + what);
  }
}
