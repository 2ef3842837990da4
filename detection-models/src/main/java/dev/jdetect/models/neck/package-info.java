/**
 * Necks between a backbone and the detection heads: torchvision's feature pyramid network with its
 * extra levels ({@code LastLevelMaxPool} for Faster R-CNN, {@code LastLevelP6P7} for RetinaNet and
 * FCOS), and {@link dev.jdetect.models.neck.BackboneWithFpn}, a multi-level backbone with a pyramid
 * on top, named as torchvision's {@code BackboneWithFPN} ({@code body.*}, {@code fpn.*}).
 */
package dev.jdetect.models.neck;
