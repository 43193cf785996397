/**
 * The monitor: admission, per-layer mailboxes, windows, refresh scheduling, snapshots.
 *
 * <p>Monitor admits validated batches (bounded queues, memory budget), applies them on one writer per
 * layer and refreshes spectra fairly on the compute threads; LayerSnapshot is what every reader sees.
 *
 * <p>May import: core, io. Monitor is thread-safe; a LayerMonitor's state is touched only by its
 * mailbox. Parameters and results are never null unless documented.
 */
package org.alphawatch.pipeline;
