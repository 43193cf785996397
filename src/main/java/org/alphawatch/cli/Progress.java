package org.alphawatch.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of long work on stderr: a self-overwriting line on a terminal, a line every 10% otherwise.
 * Silent for work below {@code threshold} units.
 */
final class Progress {
    private final PrintStream err;
    private final String what;
    private final long total;
    private final boolean enabled;
    private final boolean terminal = System.console() != null;
    private int lastShown = -1;

    Progress(PrintStream err, String what, long total, long threshold) {
        this.err = err;
        this.what = what;
        this.total = total;
        this.enabled = total >= threshold;
    }

    void update(long done) {
        if (!enabled) {
            return;
        }
        int pct = (int) (100 * done / Math.max(1, total));
        int bucket = terminal ? pct : pct / 10 * 10;
        if (bucket == lastShown) {
            return;
        }
        lastShown = bucket;
        String line = String.format(Locale.ROOT, "%s: %3d%% (%.1f of %.1f MB)", what, pct, done / 1e6, total / 1e6);
        if (terminal) {
            err.print("\r" + line);
            if (done >= total) {
                err.println();
            }
        } else {
            err.println(line);
        }
        err.flush();
    }
}
