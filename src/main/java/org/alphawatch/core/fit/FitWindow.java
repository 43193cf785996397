package org.alphawatch.core.fit;

/** A range of ranks {@code [lo, hi]}, 1-based and inclusive, as in DESIGN.md section 3. */
public record FitWindow(int lo, int hi) {
    public FitWindow {
        if (lo < 1 || hi < lo) {
            throw new IllegalArgumentException("fit window [" + lo + ", " + hi + "] must satisfy 1 <= lo <= hi");
        }
    }

    /** Parses {@code LO:HI}; the message names what is wrong. */
    public static FitWindow parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("fit range '" + text + "' is not LO:HI");
        }
        int lo;
        int hi;
        try {
            lo = Integer.parseInt(parts[0].trim());
            hi = Integer.parseInt(parts[1].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("fit range '" + text + "' is not two integers LO:HI");
        }
        if (lo < 1 || hi < lo + 2) {
            throw new IllegalArgumentException("fit range '" + text + "' needs 1 <= LO and at least 3 ranks (HI >= LO + 2)");
        }
        return new FitWindow(lo, hi);
    }

    public int length() {
        return hi - lo + 1;
    }

    @Override
    public String toString() {
        return lo + ":" + hi;
    }
}
