/**
 * Small NDArray helpers every other package relies on; see {@link dev.jdetect.core.nd.Scalars} for
 * why constants in differentiable code are made through it.
 */
package dev.jdetect.core.nd;
