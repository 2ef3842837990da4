/**
 * Optimizers whose state can be saved and restored exactly: {@link
 * dev.jdetect.train.optim.ResumableSgd} (momentum, dampening, Nesterov, weight decay, as {@code
 * torch.optim.SGD}) and {@link dev.jdetect.train.optim.ResumableAdam} (with optional decoupled
 * weight decay, as {@code torch.optim.Adam} / {@code AdamW}).
 *
 * <p>DJL's own optimizers keep their state in private fields that cannot be serialised, so a
 * resumed run would restart its momentum from zero. These optimizers keep every buffer keyed by the
 * parameter's name, and {@link dev.jdetect.train.optim.ResumableOptimizer#saveState} / {@link
 * dev.jdetect.train.optim.ResumableOptimizer#loadState} write and read it bit for bit.
 */
package dev.jdetect.train.optim;
