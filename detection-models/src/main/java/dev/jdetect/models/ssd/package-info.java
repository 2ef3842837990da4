/**
 * The SSD family: {@link dev.jdetect.models.ssd.Ssd} (transform, backbone, {@link
 * dev.jdetect.models.ssd.SsdHead}, default boxes, {@link dev.jdetect.models.ssd.MultiBoxLoss},
 * {@link dev.jdetect.models.ssd.SsdPostProcessor}) with its VGG16 feature extractor and factories
 * in {@link dev.jdetect.models.ssd.SsdModels}, plus the other SSD variants built on the same parts.
 *
 * <p>Blocks name their children after torchvision's module attributes so torchvision SSD weights
 * load with {@link dev.jdetect.models.weights.WeightImport}.
 */
package dev.jdetect.models.ssd;
