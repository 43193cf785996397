package org.alphawatch.scale;

import java.util.List;
import java.util.Optional;
import org.alphawatch.pipeline.LayerKey;

/**
 * What a node of a scale-out cluster knows about the others, for queries: which node owns a
 * layer, and which nodes exist. A request carrying {@link #LOCAL_HEADER} is answered from this
 * node's own layers only (that is how nodes ask each other).
 */
public interface ClusterView {
    String LOCAL_HEADER = "X-Alphawatch-Local";

    /** The URL of the other node that owns {@code key}; empty when this node owns it or nobody does yet. */
    Optional<String> remoteOwner(LayerKey key);

    /** URLs of the other nodes that own layers. */
    List<String> otherOwners();
}
