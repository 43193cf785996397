/**
 * The spectrum-change detector and its delivery.
 *
 * <p>AlertEngine compares each mature snapshot of a layer with the previous disjoint window (alpha shift
 * scaled by both jackknife errors, collapse, rank drop) and raises confirmed alerts; AlertService feeds
 * it from the monitor, counts alerts in metrics, keeps the recent ones and POSTs them to a webhook.
 *
 * <p>May import: core, pipeline, metrics, io, report (JSON field names). AlertEngine is confined to the monitor's snapshot thread;
 * AlertService is thread-safe. Parameters and results are never null unless documented.
 */
package org.alphawatch.alert;
