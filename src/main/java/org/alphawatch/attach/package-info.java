/**
 * How programs outside the monitor stream their layers into it.
 *
 * <p>LayerStream is the stable Java API (in-process or over HTTP); ActivationSink and HttpActivationSink
 * carry batches with backpressure; RetryAfter reads the header every client honours.
 *
 * <p>May import: pipeline, io, report (JSON field names). Thread-safe. Parameters and results are never null unless documented.
 */
package org.alphawatch.attach;
