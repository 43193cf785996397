package org.alphawatch.core.fit;

/** Conditions a reader of an alpha value must know about. */
public enum FitFlag {
    /** K < 50: the default window [2, K-2] was used; alpha is a rough indication only. */
    LOW_CONFIDENCE,
    /** n < 10 m: the sample spectrum's tail is biased (upward alpha for small n). */
    UNDERSAMPLED,
    /** The window's upper end was lowered to the numerical rank (trailing eigenvalues are zero). */
    CLIPPED_TO_RANK,
    /** The requested window lay partly beyond the K available eigenvalues and was shortened. */
    CLIPPED_TO_SIZE,
    /** Fewer than 3 usable ranks: no fit was made, alpha is undefined. */
    NO_FIT
}
