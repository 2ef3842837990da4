/**
 * The SSD family: {@link dev.jdetect.models.ssd.Ssd} (an {@link
 * dev.jdetect.models.ssd.SsdTransform}, a backbone, an {@link dev.jdetect.models.ssd.SsdHead},
 * anchors, an {@link dev.jdetect.models.ssd.SsdLoss} and an {@link
 * dev.jdetect.models.ssd.SsdDecoder}) with torchvision's parts ({@link
 * dev.jdetect.models.ssd.MultiBoxLoss}, {@link dev.jdetect.models.ssd.SsdPostProcessor}) and
 * configurations: SSD300/SSD512 in {@link dev.jdetect.models.ssd.SsdModels}, {@link
 * dev.jdetect.models.ssd.SsdLite}, {@link dev.jdetect.models.ssd.SsdResNet50} and Dive into Deep
 * Learning's {@link dev.jdetect.models.ssd.TinySsd} ({@link dev.jdetect.models.ssd.D2lLoss}, {@link
 * dev.jdetect.models.ssd.D2lPostProcessor}).
 *
 * <p>Blocks name their children after torchvision's module attributes so torchvision SSD weights
 * load with {@link dev.jdetect.models.weights.WeightImport}.
 */
package dev.jdetect.models.ssd;
