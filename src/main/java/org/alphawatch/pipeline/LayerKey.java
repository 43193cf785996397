package org.alphawatch.pipeline;

/** A (run, layer) pair whose names passed {@link Names#check}. */
public record LayerKey(String run, String layer) {
    public LayerKey {
        Names.check("run", run);
        Names.check("layer", layer);
    }

    @Override
    public String toString() {
        return run + "/" + layer;
    }
}
