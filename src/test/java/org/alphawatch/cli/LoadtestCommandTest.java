package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The load tool end to end against an in-process server: every acknowledged sample must arrive. */
@Tag("slow")
class LoadtestCommandTest {
    @Test
    void smallLoadtestAccountsForEveryAcknowledgedSample() {
        StringWriter out = new StringWriter();
        int status = Main.run(new String[] {"loadtest", "--producers", "3", "--layers", "2", "--dims", "64", "--rows",
            "32", "--seconds", "2"}, new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertThat(status).as(out.toString()).isZero();
        assertThat(out.toString()).contains("batches accepted", "p50", "p99", "decode", "queue_wait", "apply",
                "refresh", "all there");
    }
}
