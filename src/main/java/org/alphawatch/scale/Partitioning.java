package org.alphawatch.scale;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.alphawatch.pipeline.LayerKey;

/**
 * Which partition holds a layer: chosen by us (CRC-32 of "run/layer" modulo the partitions) and
 * set on every record, never left to Kafka's key hashing, so that every node computes the same
 * owner for a query. Many more partitions than workers keep the layers spread evenly.
 */
final class Partitioning {
    private Partitioning() {}

    public static int partition(LayerKey key, int partitions) {
        CRC32 crc = new CRC32();
        crc.update((key.run() + "/" + key.layer()).getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % partitions);
    }
}
