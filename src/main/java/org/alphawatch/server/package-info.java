/**
 * The HTTP service: routes, validation, answers, Server-Sent Events, /metrics, and the service that
 * wires everything.
 *
 * <p>Every route passes one authorization check (secured); refusals are counted and change nothing.
 *
 * <p>May import: core, pipeline, io, report, metrics, alert, durability, scale (settings and the cluster view;
 * Kafka only through ScaleOutWiring). Event-loop threads never block. Parameters and results are never
 * null unless documented.
 */
package org.alphawatch.server;
