/**
 * Scale-out on Apache Kafka (docs/scale-out.md): ingest into Kafka, workers owning partitions, owners
 * for queries, the local broker.
 *
 * <p>The only package that touches Kafka (ArchitectureTest); ScaleSettings and ClusterView are plain
 * types the server may know without loading Kafka.
 *
 * <p>May import: pipeline, durability, core.format, report (JSON field names), metrics (metric names), Kafka, Micrometer. Each consumer is confined to its own thread.
 * Parameters and results are never null unless documented.
 */
package org.alphawatch.scale;
