/**
 * The spectrum-change detector and its delivery.
 *
 * <p>AlertEngine compares each mature snapshot of a layer with a disjoint earlier window: alpha, curvature,
 * participation ratio and leading subspace, each against its own noise, evidence accumulated per sample and
 * combined over a run's layers (one alert per statistic naming the layers), plus collapse and rank drop;
 * AlertService feeds
 * it from the monitor, counts alerts in metrics, keeps the recent ones and POSTs them to a webhook.
 *
 * <p>May import: core, pipeline, metrics, io, report (JSON field names). AlertEngine is confined to the monitor's snapshot thread;
 * AlertService is thread-safe. Parameters and results are never null unless documented.
 */
package org.alphawatch.alert;
