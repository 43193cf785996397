package org.alphawatch.pipeline;

/** What a batch is for: spectrum statistics ({@code train}) or an ordered probe sweep ({@code probe}). */
public enum BatchKind {
    TRAIN(0), PROBE(1);

    /** The byte the write-ahead log (and Kafka records) store: fixed, whatever the order of the constants. */
    private final int id;

    BatchKind(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** The kind stored as {@code id}, or null when no kind has it. */
    public static BatchKind fromId(int id) {
        for (BatchKind k : values()) {
            if (k.id == id) {
                return k;
            }
        }
        return null;
    }

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
