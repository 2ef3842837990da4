package dev.jdetect.models.weights;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renames the tensors of checkpoints saved before torchvision 0.13 to today's names, as
 * torchvision's modules do when they load such a file:
 *
 * <ul>
 *   <li>FPN blocks: {@code fpn.inner_blocks.i.weight} → {@code fpn.inner_blocks.i.0.weight} (and
 *       {@code layer_blocks}, {@code bias});
 *   <li>the RPN head's convolution: {@code rpn.head.conv.weight} → {@code
 *       rpn.head.conv.0.0.weight};
 *   <li>RetinaNet's heads: {@code head.classification_head.conv.{2i}.weight} → {@code
 *       head.classification_head.conv.{i}.0.weight} (and {@code regression_head}).
 * </ul>
 *
 * <p>Names already in today's form are left alone, so the upgrade is safe on any state dict.
 */
public final class LegacyNames {

  private static final Pattern FPN =
      Pattern.compile("(.*(?:inner_blocks|layer_blocks)\\.\\d+)\\.(weight|bias)");
  private static final Pattern RPN_CONV = Pattern.compile("(.*rpn\\.head\\.conv)\\.(weight|bias)");
  private static final Pattern RETINA_CONV =
      Pattern.compile(
          "(.*(?:classification_head|regression_head)\\.conv)\\.(\\d+)\\.(weight|bias)");

  private LegacyNames() {}

  /**
   * Returns today's name for one tensor name.
   *
   * @param name a state-dict name, old or new
   * @return the name torchvision 0.13 and later use for it
   */
  public static String upgrade(String name) {
    Matcher m = FPN.matcher(name);
    if (m.matches()) {
      return m.group(1) + ".0." + m.group(2);
    }
    m = RPN_CONV.matcher(name);
    if (m.matches()) {
      return m.group(1) + ".0.0." + m.group(2);
    }
    m = RETINA_CONV.matcher(name);
    if (m.matches()) {
      int index = Integer.parseInt(m.group(2));
      if (index % 2 == 0) {
        return m.group(1) + "." + index / 2 + ".0." + m.group(3);
      }
    }
    return name;
  }

  /**
   * Returns the state dict with every name upgraded, in the same order.
   *
   * @param stateDict a state dict, old or new
   * @return a state dict with today's names (the same arrays)
   * @throws IllegalArgumentException if an old and a new name land on one name
   */
  public static StateDict upgrade(StateDict stateDict) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : stateDict.arrays().entrySet()) {
      String name = upgrade(e.getKey());
      if (out.put(name, e.getValue()) != null) {
        throw new IllegalArgumentException(
            "the state dict holds both the old and the new name of " + name);
      }
    }
    return StateDict.of(out);
  }
}
