package dev.jdetect.models.dense;

import static dev.jdetect.testkit.NDAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.jdetect.models.weights.ImportReport;
import dev.jdetect.models.weights.LegacyNames;
import dev.jdetect.models.weights.StateDict;
import dev.jdetect.models.weights.WeightImport;
import dev.jdetect.models.weights.WeightImportException;
import dev.jdetect.testkit.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * RetinaNet head weights saved before torchvision 0.13 ({@code conv.{2i}.weight}) load through
 * {@link LegacyNames} and give the same outputs as today's names.
 */
class RetinaNetWeightsTest {

  private static final Pattern NEW_CONV =
      Pattern.compile("(.*_head\\.conv)\\.(\\d+)\\.0\\.(weight|bias)");

  /** Today's names turned back into the pre-0.13 RetinaNet head names. */
  private static StateDict toLegacyNames(StateDict today) {
    Map<String, NDArray> old = new LinkedHashMap<>();
    for (Map.Entry<String, NDArray> e : today.arrays().entrySet()) {
      Matcher m = NEW_CONV.matcher(e.getKey());
      String name =
          m.matches()
              ? m.group(1) + "." + 2 * Integer.parseInt(m.group(2)) + "." + m.group(3)
              : e.getKey();
      old.put(name, e.getValue());
    }
    return StateDict.of(old);
  }

  @Test
  void legacyHeadNamesLoadThroughLegacyNames() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      StateDict today;
      try (InputStream is =
          RetinaNetWeightsTest.class.getResourceAsStream(TinyDenseModels.DIR + "v1_weights.npz")) {
        today = StateDict.fromNpz(manager, is);
      }
      StateDict legacy = toLegacyNames(today);
      assertTrue(legacy.arrays().containsKey("head.classification_head.conv.6.weight"));
      assertTrue(legacy.arrays().containsKey("head.regression_head.conv.4.bias"));

      RetinaNet plain = TinyDenseModels.build("v1");
      plain.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      assertThrows(WeightImportException.class, () -> WeightImport.load(plain, legacy));

      RetinaNet model = TinyDenseModels.build("v1");
      model.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 64, 64));
      ImportReport report =
          WeightImport.builder().optRename(LegacyNames::upgrade).build().apply(model, legacy);
      assertEquals(today.arrays().size(), report.loaded().size());

      NDList in = Fixtures.load(manager, TinyDenseModels.DIR + "images.npz");
      NDList out = Fixtures.load(manager, TinyDenseModels.DIR + "v1_outputs.npz");
      ParameterStore ps = new ParameterStore(manager, false);
      NDList images = new NDList(Fixtures.get(in, "image_0"), Fixtures.get(in, "image_1"));
      NDArray logits = model.predict(ps, model.features(ps, images, false), false).logits();
      assertClose(Fixtures.get(out, "cls_logits"), logits, 1e-4f, "logits");
    }
  }
}
