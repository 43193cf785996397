/**
 * The built-in trainer and its demos (autoencoders on generated images, superposition, detector trials).
 *
 * <p>May import: core, pipeline, io, alert, attach, plot. Single-threaded unless a class says so.
 * Parameters and results are never null unless documented.
 */
package org.alphawatch.train;
