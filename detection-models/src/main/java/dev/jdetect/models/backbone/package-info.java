/**
 * Backbones (feature extractors) for the detection models: VGG16, ResNet-50 and MobileNetV2.
 *
 * <p>Every backbone mirrors the module names and {@code Sequential} positions of the matching
 * torchvision classification model (activation and pooling layers included, as parameter-free
 * blocks at their torchvision index), so torchvision {@code state_dict}s load onto them through
 * {@code dev.jdetect.models.weights}. Each implements {@link dev.jdetect.models.Backbone}.
 */
package dev.jdetect.models.backbone;
