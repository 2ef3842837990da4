/**
 * Training of jdetect models: {@link dev.jdetect.train.DetectionTrainer} (own loop with
 * checkpoints, exact resume, progress, metrics CSV and plot), {@link dev.jdetect.train.LrSchedule}
 * (warm-up, multi-step, cosine) and the {@link dev.jdetect.train.TrainingData} source it reads
 * batches from. Optimizers are in {@link dev.jdetect.train.optim}; data sets, augmentation,
 * evaluation and inference in the sibling packages.
 */
package dev.jdetect.train;
