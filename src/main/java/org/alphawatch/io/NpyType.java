package org.alphawatch.io;

/** The numeric element types alphawatch reads; integers and booleans are converted to floating point. */
public enum NpyType {
    FLOAT16("f2", 2, true),
    FLOAT32("f4", 4, true),
    FLOAT64("f8", 8, true),
    INT8("i1", 1, false),
    INT16("i2", 2, false),
    INT32("i4", 4, false),
    INT64("i8", 8, false),
    UINT8("u1", 1, false),
    UINT16("u2", 2, false),
    UINT32("u4", 4, false),
    UINT64("u8", 8, false),
    BOOL("b1", 1, false);

    private final String code;
    private final int size;
    private final boolean floating;

    NpyType(String code, int size, boolean floating) {
        this.code = code;
        this.size = size;
        this.floating = floating;
    }

    public String code() {
        return code;
    }

    public int size() {
        return size;
    }

    /** Whether values can be NaN or infinite (and so must be checked). */
    public boolean floating() {
        return floating;
    }

    /** Whether every value converts to float32 exactly, so float32 storage loses nothing. */
    public boolean exactInFloat32() {
        return this == FLOAT16 || this == FLOAT32 || this == INT8 || this == INT16 || this == UINT8
                || this == UINT16 || this == BOOL;
    }

    static NpyType fromCode(String code) {
        String c = code.equals("?") ? "b1" : code;
        for (NpyType t : values()) {
            if (t.code.equals(c)) {
                return t;
            }
        }
        return null;
    }
}
