/**
 * .npy decoding and encoding, and the trainer-side partial accumulator format (AWPA).
 *
 * <p>May import: core.format. Stateless or single-use readers. Parameters and results are never null
 * unless documented.
 */
package org.alphawatch.io;
