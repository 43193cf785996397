package org.alphawatch.pipeline;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The read side of a layer: its current (newest mature) snapshot, the newest snapshot of any
 * maturity, the bounded history of mature snapshots, and the last refresh failure. Written by the
 * layer's refresh (one at a time), read from any thread.
 */
final class LayerSnapshots {
    private final int historySize;
    private volatile LayerSnapshot mature;
    private volatile LayerSnapshot newest;
    private final ArrayDeque<HistoryPoint> history = new ArrayDeque<>();
    private volatile RefreshFailure failure;
    private volatile long failures;

    /** The last refresh that failed after the current snapshot (cleared by the next success). */
    record RefreshFailure(long timeMillis, String message) {}

    LayerSnapshots(int historySize) {
        this.historySize = historySize;
    }

    /** Records a refresh; returns true when it became the current snapshot (mature). */
    boolean accept(LayerSnapshot s) {
        newest = s;
        failure = null;
        if (!s.mature()) {
            return false;
        }
        mature = s;
        HistoryPoint point = s.toHistoryPoint();
        synchronized (history) {
            HistoryPoint last = history.peekLast();
            if (last != null && last.step() == point.step() && last.windowSamples() == point.windowSamples()
                    && java.util.Arrays.equals(last.values(), point.values())) {
                return true; // the same window again (a restored layer's first refresh): one point is enough
            }
            history.addLast(point);
            while (history.size() > historySize) {
                history.removeFirst();
            }
        }
        return true;
    }

    void failed(long timeMillis, String message) {
        failure = new RefreshFailure(timeMillis, message);
        failures++;
    }

    /** The current spectrum: the newest mature snapshot, else the newest immature one (flagged), else null. */
    LayerSnapshot current() {
        LayerSnapshot m = mature;
        return m != null ? m : newest;
    }

    LayerSnapshot newest() {
        return newest;
    }

    LayerSnapshot mature() {
        return mature;
    }

    RefreshFailure failure() {
        return failure;
    }

    long failures() {
        return failures;
    }

    List<HistoryPoint> history() {
        synchronized (history) {
            return new ArrayList<>(history);
        }
    }

    void restoreHistory(List<HistoryPoint> points) {
        synchronized (history) {
            history.clear();
            for (HistoryPoint p : points) {
                history.addLast(p);
            }
            while (history.size() > historySize) {
                history.removeFirst();
            }
        }
    }
}
