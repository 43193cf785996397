package org.alphawatch.pipeline;

/**
 * Who sent a batch and its number in that sender's stream for the layer: what makes delivery
 * exactly once (docs/durability.md). A sender (one client instance) numbers its requests per layer
 * from 1, keeps one request in flight per layer, and resends a request with the same number; the
 * monitor keeps the last number applied per (layer, sender) inside the layer's state and answers a
 * number at or below it as a duplicate, applying nothing.
 *
 * @param sender a name unique to the sending instance (1-64 of {@code A-Za-z0-9._-})
 * @param seq    the request's number for this layer, from 1
 */
public record Delivery(String sender, long seq) {
    public Delivery {
        Names.check("sender", sender);
        if (seq < 1) {
            throw new IllegalArgumentException("seq " + seq + " must be >= 1");
        }
    }
}
