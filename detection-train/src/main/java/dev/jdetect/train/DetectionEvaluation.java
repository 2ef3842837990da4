package dev.jdetect.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.jdetect.core.nd.Autograd;
import dev.jdetect.models.DetectionModel;
import dev.jdetect.models.Detections;
import dev.jdetect.train.data.AnnotationSet;
import dev.jdetect.train.data.DetectionSample;
import dev.jdetect.train.data.DetectionTransform;
import dev.jdetect.train.data.SampleData;
import dev.jdetect.train.eval.GroundTruth;
import dev.jdetect.train.eval.Predictions;
import dev.jdetect.train.eval.VocEvaluator;
import dev.jdetect.train.eval.VocResult;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a model over a labelled image set and scores it with the VOC rules. Images are loaded
 * through the training pipeline ({@link SampleData}) with their difficult and crowd objects (which
 * the VOC evaluation ignores), pre-processed like the training data (e.g. resized), and predicted
 * in batches; ground truth and detections are compared in the pre-processed image's pixels (IoU
 * does not change under a resize of the axes).
 */
public final class DetectionEvaluation {

  private DetectionEvaluation() {}

  /**
   * Computes VOC mAP (area under the PR curve unless {@code use07Metric}).
   *
   * @param model the model, initialized
   * @param images the images
   * @param preprocess the deterministic pre-processing, or {@code null}
   * @param batchSize images per forward pass (all images of a batch must share a size)
   * @param iouThreshold the IoU for a match, e.g. 0.5
   * @param use07Metric VOC2007's 11-point AP instead of the area under the curve
   * @return the result with per-class AP
   */
  public static VocResult voc(
      DetectionModel model,
      AnnotationSet images,
      DetectionTransform preprocess,
      int batchSize,
      double iouThreshold,
      boolean use07Metric) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    VocEvaluator evaluator =
        VocEvaluator.builder()
            .setNumClasses(images.getNumClasses())
            .optIouThreshold(iouThreshold)
            .setUse07Metric(use07Metric)
            .build();
    if (images.getImages().isEmpty()) {
      return evaluator.evaluate();
    }
    SampleData data =
        SampleData.builder()
            .setAnnotations(images)
            .optPreprocess(preprocess)
            .optIncludeDifficult(true)
            .optIncludeCrowd(true)
            .optCache(false)
            .build();
    int count = images.getImages().size();
    ai.djl.Device device =
        model.getParameters().isEmpty()
            ? ai.djl.engine.Engine.getInstance().defaultDevice()
            : model.getParameters().valueAt(0).getArray().getDevice();
    // a thread PyTorch has not seen records gradients: predict without building a graph
    try (Autograd.NoGradient off = Autograd.noGradient();
        NDManager base = NDManager.newBaseManager(device)) {
      ParameterStore ps = new ParameterStore(base, false);
      for (int from = 0; from < count; from += batchSize) {
        try (NDManager scope = base.newSubManager()) {
          List<DetectionSample> samples = new ArrayList<>();
          NDList pics = new NDList();
          for (int i = from; i < Math.min(count, from + batchSize); i++) {
            DetectionSample s = data.sample(scope, i);
            samples.add(s);
            pics.add(s.getImage());
          }
          NDArray batch = NDArrays.stack(pics);
          List<Detections> dets =
              Detections.fromNDList(model.forward(ps, new NDList(batch), false));
          for (int k = 0; k < samples.size(); k++) {
            Detections d = dets.get(k);
            evaluator.add(
                GroundTruth.of(samples.get(k)), Predictions.of(d.boxes(), d.scores(), d.labels()));
            d.boxes().attach(scope);
            d.scores().attach(scope);
            d.labels().attach(scope);
          }
        }
      }
    }
    return evaluator.evaluate();
  }
}
