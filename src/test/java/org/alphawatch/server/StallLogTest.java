package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.alphawatch.testing.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stalled uploads are a client's problem: each is answered 408 and logged in one line, never as an ERROR. */
class StallLogTest {
    @Test
    void aStalledConnectionLogsOneLineNotAnError(@TempDir Path tmp) throws Exception {
        try (ServerProcess server = ServerProcess.start(tmp.resolve("server.log"), "256m", "--read-timeout-seconds",
                "1")) {
            String url = server.url();
            int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
            for (int i = 0; i < 3; i++) {
                try (Socket socket = new Socket("127.0.0.1", port)) {
                    socket.setSoTimeout(60_000);
                    OutputStream out = socket.getOutputStream();
                    out.write(("POST /v1/runs/slow/layers/fc/batches?step=1 HTTP/1.1\r\nHost: x\r\n"
                            + "Content-Length: 1000\r\n\r\nabc").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    InputStream in = socket.getInputStream();
                    String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
                    assertThat(answer).startsWith("HTTP/1.1 408");
                }
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!server.log().contains("a stalled connection was closed") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(server.log()).contains("a stalled connection was closed").doesNotContain("ERROR")
                    .doesNotContain("\tat ");
        }
    }
}
