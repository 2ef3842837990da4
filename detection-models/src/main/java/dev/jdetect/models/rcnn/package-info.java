/**
 * Faster R-CNN: {@link dev.jdetect.models.rcnn.RcnnTransform} (normalise, resize, pad), the {@link
 * dev.jdetect.models.rcnn.RegionProposalNetwork} (its {@link dev.jdetect.models.rcnn.RpnHead}, a
 * {@link dev.jdetect.models.rcnn.ProposalFilter} and, in training, the {@link
 * dev.jdetect.models.rcnn.RpnLoss}), the {@link dev.jdetect.models.rcnn.RoiHeads} (a {@link
 * dev.jdetect.models.rcnn.RoiPooler}, {@link dev.jdetect.models.rcnn.TwoMlpHead} and {@link
 * dev.jdetect.models.rcnn.FastRcnnPredictor}; in training the {@link
 * dev.jdetect.models.rcnn.RoiSampler} and {@link dev.jdetect.models.rcnn.FastRcnnLoss}, in
 * inference the {@link dev.jdetect.models.rcnn.RoiPostProcessor}), assembled by {@link
 * dev.jdetect.models.rcnn.FasterRcnn} (any backbone) or {@link
 * dev.jdetect.models.rcnn.FasterRcnnModels} (VGG16 as in the paper, MobileNetV2, ResNet-50 C4).
 *
 * <p>Every part follows torchvision 0.14 and takes its collaborators (anchor generator, box coder,
 * matcher, sampler, pooler, heads) through its builder; block children carry torchvision's module
 * names so torchvision {@code state_dict}s import one to one.
 */
package dev.jdetect.models.rcnn;
