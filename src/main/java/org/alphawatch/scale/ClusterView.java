package org.alphawatch.scale;

import java.util.List;
import java.util.Set;
import org.alphawatch.pipeline.LayerKey;

/**
 * What a node of a scale-out cluster knows about the others, for queries: which node owns a
 * layer, whether it answers, and which nodes exist. A request carrying {@link #LOCAL_HEADER} is
 * answered from this node's own layers only (that is how nodes ask each other).
 */
public interface ClusterView {
    String LOCAL_HEADER = "X-Alphawatch-Local";

    /** Who answers for a layer now. */
    enum State {
        /** This node owns its partition. */
        LOCAL,
        /** Another node owns it and answered its last probe. */
        REMOTE,
        /** Its partition has no owner now (a hand-over, or no worker yet). */
        MOVING,
        /** Another node owns it but did not answer its last probe. */
        UNREACHABLE
    }

    /** The state of a layer's partition, with the owner's URL for REMOTE and UNREACHABLE. */
    record Ownership(State state, String url) {}

    Ownership ownership(LayerKey key);

    /** URLs of the other nodes that own layers (reachable or not). */
    List<String> otherOwners();

    /** Partitions that no live node owns now (none: every layer has an answer). */
    Set<Integer> partitionsWithoutLiveOwner();

    /** Owners that did not answer their last probe. */
    Set<String> unreachableOwners();
}
