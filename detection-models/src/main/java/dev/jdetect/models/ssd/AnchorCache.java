package dev.jdetect.models.ssd;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jdetect.core.anchor.AnchorSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The anchors of the last feature-map sizes, input size and device an {@link Ssd} saw, generated
 * again only when one of them changes. Thread-safe.
 */
final class AnchorCache {

  private final AnchorSource source;
  private String key;
  private NDArray anchors;

  AnchorCache(AnchorSource source) {
    this.source = source;
  }

  AnchorSource source() {
    return source;
  }

  /**
   * Returns a copy, in {@code target}, of the anchors for these features of this model input; the
   * cached original lives in {@code cacheManager} until other sizes replace it.
   */
  synchronized NDArray copy(
      NDManager cacheManager, NDList features, NDArray input, NDManager target) {
    Device device = input.getDevice();
    int height = (int) input.getShape().get(2);
    int width = (int) input.getShape().get(3);
    List<Shape> shapes = new ArrayList<>(features.size());
    StringBuilder k = new StringBuilder(device.toString());
    for (NDArray f : features) {
      Shape s = f.getShape();
      shapes.add(new Shape(s.get(2), s.get(3)));
      k.append(':').append(s.get(2)).append('x').append(s.get(3));
    }
    k.append('@').append(height).append('x').append(width);
    if (anchors == null || anchors.isReleased() || !k.toString().equals(key)) {
      NDArray generated = source.generate(cacheManager, shapes, height, width);
      NDScope.unregister(generated);
      if (!generated.getDevice().equals(device)) {
        NDArray moved = generated.toDevice(device, false);
        NDScope.unregister(moved);
        moved.attach(cacheManager);
        generated.close();
        generated = moved;
      }
      if (anchors != null) {
        // callers only ever hold copies, so the replaced original can go
        anchors.close();
      }
      anchors = generated;
      key = k.toString();
    }
    NDArray out = anchors.duplicate();
    out.attach(target);
    return out;
  }
}
