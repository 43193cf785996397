/**
 * Micrometer/Prometheus metrics of the monitor, the ingest stages and durability.
 *
 * <p>May import: pipeline, durability, core.analysis. Thread-safe. Parameters and results are never null
 * unless documented.
 */
package org.alphawatch.metrics;
