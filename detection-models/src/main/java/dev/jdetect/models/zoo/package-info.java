/**
 * Models by name: {@link dev.jdetect.models.zoo.ModelZoo} maps names such as {@code ssd300-vgg16}
 * or {@code faster-rcnn-small} to builders, {@link dev.jdetect.models.zoo.ModelConfig} holds what a
 * name needs (classes, input size, options), and {@link dev.jdetect.models.zoo.SmallModels} with
 * its {@link dev.jdetect.models.zoo.SmallBackbone} are the configurations small enough to train
 * from scratch on a CPU. A model saved under its name is rebuilt with this module alone.
 */
package dev.jdetect.models.zoo;
