/**
 * Contracts shared by every jdetect model: {@link dev.jdetect.models.DetectionModel}, the {@link
 * dev.jdetect.models.Backbone} a user implements to plug in their own feature extractor, the padded
 * {@link dev.jdetect.models.Targets} form of training targets, and the {@link
 * dev.jdetect.models.Detections} a model returns.
 */
package dev.jdetect.models;
