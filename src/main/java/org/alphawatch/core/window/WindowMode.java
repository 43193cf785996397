package org.alphawatch.core.window;

import java.util.Locale;

/**
 * Which samples a layer's spectrum describes (DESIGN.md 4): the last W samples as a ring of
 * mergeable panes ({@code sliding}, the default), all of them ({@code cumulative}), or all with
 * exponentially decaying weights of half-life W samples ({@code decay}).
 */
public enum WindowMode {
    SLIDING(0), CUMULATIVE(1), DECAY(2);

    /** The byte window state stores (docs/durability.md): fixed, whatever the order of the constants. */
    private final int id;

    WindowMode(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** The mode stored as {@code id}, or null when no mode has it. */
    public static WindowMode fromId(int id) {
        for (WindowMode m : values()) {
            if (m.id == id) {
                return m;
            }
        }
        return null;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static WindowMode parse(String s) {
        for (WindowMode w : values()) {
            if (w.label().equals(s)) {
                return w;
            }
        }
        if ("tumbling".equals(s)) {
            throw new IllegalArgumentException("window 'tumbling' was replaced by 'sliding' (a ring of panes that never "
                    + "drops the whole window; docs/configuration.md)");
        }
        throw new IllegalArgumentException("window '" + s + "' is not one of sliding, cumulative, decay");
    }
}
