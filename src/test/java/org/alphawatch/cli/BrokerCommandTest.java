package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** {@code alphawatch broker} on a port that is taken (or whose controller port is) exits 2 naming it. */
class BrokerCommandTest {
    @Test
    void aTakenPortIsNamedWithExitTwo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            for (int asked : new int[] {port, port - 1}) {
                StringWriter err = new StringWriter();
                int status = Main.run(new String[] {"broker", "--port", Integer.toString(asked), "--dir", "/nonexistent"},
                        new PrintWriter(new StringWriter()), new PrintWriter(err));
                assertThat(status).as("--port " + asked).isEqualTo(2);
                assertThat(err.toString()).contains("port " + port + " is in use");
            }
        }
    }
}
