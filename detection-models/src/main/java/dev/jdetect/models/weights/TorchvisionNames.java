package dev.jdetect.models.weights;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Derives PyTorch {@code state_dict} names from a DJL block tree.
 *
 * <p>Rules, applied from the root down:
 *
 * <ul>
 *   <li>a child of a {@link SequentialBlock} is named by its position ({@code 0, 1, ...}), so
 *       parameter-free layers (ReLU, pooling) occupy their torchvision index;
 *   <li>any other child is named by the name it was registered under with {@code
 *       addChildBlock(name, block)} (DJL's {@code "01"} counter prefix removed), so blocks name
 *       their children after torchvision's module attributes ({@code backbone}, {@code head},
 *       {@code module_list}, {@code 0}, ...);
 *   <li>parameters keep their DJL name, except {@code gamma, beta, runningMean, runningVar} which
 *       become {@code weight, bias, running_mean, running_var};
 *   <li>a block implementing {@link TorchvisionAliases} renames names in its subtree.
 * </ul>
 */
public final class TorchvisionNames {

  private TorchvisionNames() {}

  /**
   * Returns the parameters of a block under their torchvision names.
   *
   * @param block the root block (its own name is not part of the names)
   * @return an ordered, unmodifiable map from torchvision name to parameter
   */
  public static Map<String, Parameter> of(Block block) {
    Map<String, Parameter> out = new LinkedHashMap<>();
    walk(block, "", out);
    return Collections.unmodifiableMap(out);
  }

  /**
   * Maps a DJL parameter name to PyTorch's.
   *
   * @param djlName the DJL name, e.g. {@code runningMean}
   * @return the PyTorch name, e.g. {@code running_mean}
   */
  public static String parameterName(String djlName) {
    switch (djlName) {
      case "gamma":
        return "weight";
      case "beta":
        return "bias";
      case "runningMean":
        return "running_mean";
      case "runningVar":
        return "running_var";
      default:
        return djlName;
    }
  }

  private static void walk(Block block, String prefix, Map<String, Parameter> out) {
    for (Pair<String, Parameter> p : block.getDirectParameters()) {
      put(out, prefix + parameterName(p.getKey()), p.getValue());
    }
    PairList<String, Block> children = block.getChildren();
    boolean sequential = block instanceof SequentialBlock;
    for (int i = 0; i < children.size(); i++) {
      Pair<String, Block> child = children.get(i);
      String childName = sequential ? Integer.toString(i) : stripCounter(child.getKey(), i);
      Map<String, Parameter> sub = new LinkedHashMap<>();
      walk(child.getValue(), prefix + childName + ".", sub);
      for (Map.Entry<String, Parameter> e : sub.entrySet()) {
        put(out, e.getKey(), e.getValue());
      }
    }
    if (block instanceof TorchvisionAliases) {
      Map<String, String> aliases = ((TorchvisionAliases) block).torchvisionAliases();
      for (Map.Entry<String, String> a : aliases.entrySet()) {
        String from = prefix + a.getKey();
        Parameter p = out.get(from);
        if (p == null) {
          throw new IllegalStateException(
              block.getClass().getSimpleName() + " declares an alias for unknown name " + from);
        }
        rename(out, from, prefix + a.getValue());
      }
    }
  }

  private static void rename(Map<String, Parameter> out, String from, String to) {
    Map<String, Parameter> copy = new LinkedHashMap<>(out);
    out.clear();
    for (Map.Entry<String, Parameter> e : copy.entrySet()) {
      out.put(e.getKey().equals(from) ? to : e.getKey(), e.getValue());
    }
  }

  private static void put(Map<String, Parameter> out, String name, Parameter p) {
    if (out.put(name, p) != null) {
      throw new IllegalStateException("two parameters map to the torchvision name " + name);
    }
  }

  private static String stripCounter(String key, int index) {
    String counter = String.format(Locale.ROOT, "%02d", index + 1);
    if (key.startsWith(counter) && key.length() > counter.length()) {
      return key.substring(counter.length());
    }
    return key;
  }
}
