package org.alphawatch.pipeline;

/**
 * Which samples a layer's spectrum describes (DESIGN.md 4): all of them ({@code cumulative}), the
 * last completed block of W samples ({@code tumbling}, reset exactly at W), or all with
 * exponentially decaying weights of half-life W samples ({@code decay}).
 */
public enum WindowMode {
    CUMULATIVE, TUMBLING, DECAY;

    public String label() {
        return name().toLowerCase();
    }

    public static WindowMode parse(String s) {
        for (WindowMode w : values()) {
            if (w.label().equals(s)) {
                return w;
            }
        }
        throw new IllegalArgumentException("window '" + s + "' is not one of cumulative, tumbling, decay");
    }
}
