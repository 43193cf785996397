package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void badSettingsAreNamedWithExitTwo() {
        String[][] cases = {
            {"--threads", "-1", "--threads must be >= 0, not -1"},
            {"--rows", "0", "--rows must be >= 1"},
            {"--backends", "cuda", "'cuda' is not java or openblas"},
        };
        for (String[] c : cases) {
            StringWriter err = new StringWriter();
            int status = Main.run(new String[] {"bench", c[0], c[1], "--python", "/nonexistent/python"},
                    new PrintWriter(new StringWriter()), new PrintWriter(err));
            assertThat(status).as(c[0]).isEqualTo(2);
            assertThat(err.toString()).as(c[0]).contains(c[2]);
        }
    }
}
