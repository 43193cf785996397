package org.alphawatch.pipeline;

/** Why a layer left the monitor: only a deletion ends what others keep about it (alert state). */
public enum Removal {
    /** Its run was deleted. */
    DELETED,
    /** Handed to another owner (a scale-out partition moved); its state lives on there. */
    RELEASED,
    /** Created for batches of which none could be made durable: it never held data. */
    UNUSED
}
