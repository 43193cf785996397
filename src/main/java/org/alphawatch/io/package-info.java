/**
 * .npy decoding and encoding, and the trainer-side partial accumulator format (AWPA).
 *
 * <p>May import: core.format, core.linalg (the semi-definiteness test), core.stat (count limits). Stateless or single-use readers. Parameters and results are never null
 * unless documented.
 */
package org.alphawatch.io;
