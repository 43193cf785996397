package org.alphawatch.pipeline;

/** What a batch is for: spectrum statistics ({@code train}) or an ordered probe sweep ({@code probe}). */
public enum BatchKind {
    TRAIN, PROBE;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static BatchKind parse(String s) {
        for (BatchKind k : values()) {
            if (k.label().equals(s)) {
                return k;
            }
        }
        throw new IllegalArgumentException("kind '" + s + "' is not one of train, probe");
    }
}
