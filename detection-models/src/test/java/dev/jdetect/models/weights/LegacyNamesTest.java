package dev.jdetect.models.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LegacyNamesTest {

  @Test
  void oldTorchvisionNamesBecomeTodays() {
    assertEquals(
        "backbone.fpn.inner_blocks.2.0.weight",
        LegacyNames.upgrade("backbone.fpn.inner_blocks.2.weight"));
    assertEquals(
        "backbone.fpn.layer_blocks.0.0.bias",
        LegacyNames.upgrade("backbone.fpn.layer_blocks.0.bias"));
    assertEquals("rpn.head.conv.0.0.weight", LegacyNames.upgrade("rpn.head.conv.weight"));
    assertEquals(
        "head.classification_head.conv.3.0.weight",
        LegacyNames.upgrade("head.classification_head.conv.6.weight"));
    assertEquals(
        "head.regression_head.conv.0.0.bias",
        LegacyNames.upgrade("head.regression_head.conv.0.bias"));
  }

  @Test
  void todaysNamesAndUnrelatedNamesStay() {
    for (String name :
        List.of(
            "backbone.fpn.inner_blocks.2.0.weight",
            "backbone.fpn.inner_blocks.2.1.running_var",
            "rpn.head.conv.0.0.weight",
            "rpn.head.cls_logits.weight",
            "head.classification_head.conv.3.0.weight",
            "head.classification_head.conv.1.1.weight",
            "head.classification_head.cls_logits.bias",
            "backbone.body.layer1.0.conv1.weight")) {
      assertEquals(name, LegacyNames.upgrade(name));
    }
  }

  @Test
  void upgradesAWholeStateDictInOrderAndRefusesClashes() {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> old = new LinkedHashMap<>();
      old.put("rpn.head.conv.weight", m.ones(new Shape(1)));
      old.put("rpn.head.cls_logits.weight", m.zeros(new Shape(1)));
      StateDict up = LegacyNames.upgrade(StateDict.of(old));
      assertEquals(
          List.of("rpn.head.conv.0.0.weight", "rpn.head.cls_logits.weight"),
          List.copyOf(up.names()));
      old.put("rpn.head.conv.0.0.weight", m.ones(new Shape(1)));
      assertThrows(IllegalArgumentException.class, () -> LegacyNames.upgrade(StateDict.of(old)));
    }
  }
}
