package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.testing.ExternalTools;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS with a certificate made here by openssl, and the token over it. */
class TlsTest {
    @Test
    void servesHttpsWithTheGivenCertificate(@TempDir Path dir) throws Exception {
        Path openssl = ExternalTools.require("openssl", "/usr/bin/openssl");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();

        String token = "tls-token-0123456789";
        ServerConfig config = new ServerConfig("127.0.0.1", 0, Optional.of(token.getBytes()), true,
                TestServers.manualRefresh(WindowMode.CUMULATIVE, 0)).withTls(Optional.of(cert), Optional.of(key));
        try (MonitorService service = MonitorService.create(config, new EjmlEigenSolver()).start()) {
            String url = service.server().baseUrl();
            assertThat(url).startsWith("https://127.0.0.1:");
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(cert)) {
                trust.setCertificateEntry("alphawatch", (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(in));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(ssl).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url + "/v1/runs"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(URI.create(url + "/v1/runs")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);
            // Plain HTTP to the TLS port gets no answer.
            String plain = url.replace("https://", "http://");
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(plain + "/healthz"))
                    .timeout(java.time.Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(java.io.IOException.class);
        }
    }
}
