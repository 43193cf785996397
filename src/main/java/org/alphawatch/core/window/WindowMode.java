package org.alphawatch.core.window;

import java.util.Locale;

/**
 * Which samples a layer's spectrum describes (DESIGN.md 4): the last W samples as a ring of
 * mergeable panes ({@code sliding}, the default), all of them ({@code cumulative}), or all with
 * exponentially decaying weights of half-life W samples ({@code decay}).
 */
public enum WindowMode {
    SLIDING, CUMULATIVE, DECAY;

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
