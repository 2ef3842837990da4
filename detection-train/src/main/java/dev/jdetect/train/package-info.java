/**
 * Training of jdetect models. {@link dev.jdetect.train.DetectionTrainer} is a loop over epochs and
 * steps: each step is a forward, backward, clip and update, split over devices when there are
 * several, and everything else is a {@link dev.jdetect.train.TrainingListener}: console progress
 * ({@link dev.jdetect.train.ProgressReporter}), checkpoints tied to a run with a settings hash and
 * a SHA-256 checksum ({@link dev.jdetect.train.Checkpoint}), and the metrics CSV. {@link
 * dev.jdetect.train.TrainingConfig} holds the settings, {@link dev.jdetect.train.LrSchedule} the
 * learning rate (warm-up, multi-step, cosine), {@link dev.jdetect.train.Seeds} the seeding that
 * makes runs reproducible. Optimizers with exact state are in {@link dev.jdetect.train.optim}; the
 * data pipeline, augmentation, evaluation and inference in the sibling packages.
 */
package dev.jdetect.train;
