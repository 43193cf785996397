/**
 * Checkpoints, the write-ahead log and recovery (docs/durability.md).
 *
 * <p>One record format serves the log and Kafka; corruption is refused loudly, never repaired by
 * deleting good data.
 *
 * <p>May import: pipeline, io, core.format. The log has its own writer thread; Durability is driven by
 * the service. Parameters and results are never null unless documented.
 */
package org.alphawatch.durability;
