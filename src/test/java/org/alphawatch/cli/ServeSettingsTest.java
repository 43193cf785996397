package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.durability.DurabilitySettings;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeSettingsTest {
    @Test
    void fileThenFlagsThenValidation(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("aw.properties");
        Files.writeString(file, "window = decay\nwindow-size = 1000\nqueue-bytes = 1MB\nmemory-budget = 2GB\n"
                + "refresh-seconds = 2.5\nfit-range = 5:50\nalert-stale-seconds = 60\n");
        ServerConfig c = ServeSettings.defaults().file(file).set("window-size", 2000L).build(Map.of());
        assertThat(c.monitor().window()).isEqualTo(WindowMode.DECAY);
        assertThat(c.monitor().windowSamples()).isEqualTo(2000);
        assertThat(c.monitor().queueBytes()).isEqualTo(1L << 20);
        assertThat(c.monitor().memoryBudgetBytes()).isEqualTo(2L << 30);
        assertThat(c.monitor().refreshInterval()).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.monitor().fitWindow().toString()).isEqualTo("5:50");
        assertThat(c.alerts().staleAfter()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.port()).isEqualTo(9400);
        assertThat(c.bind()).isEqualTo("127.0.0.1");
        assertThat(c.token()).isEmpty();
    }

    @Test
    void everyBadSettingIsNamed(@TempDir Path dir) throws Exception {
        Object[][] cases = {
            {"colour = blue", "unknown key 'colour'"},
            {"window = rolling", "window 'rolling' is not one of sliding, cumulative, decay"},
            {"window = tumbling", "window 'tumbling' was replaced by 'sliding'"},
            {"queue-bytes = lots", "queue-bytes 'lots' is not a byte size"},
            {"port = 70000", "port 70000 outside 0..65535"},
            {"window-size = 5", "window-size 5 cannot hold 8 panes (ci-groups) of 2 samples"},
            {"window-size = -1", "window-size -1 must be >= 0"},
            {"min-samples = x", "min-samples 'x' is not an integer"},
            {"include-open = true\nwindow = cumulative", "include-open applies to the sliding window only"},
            {"ci-groups = 99", "ci-groups 99 must be within 1..32"},
            {"ci-groups = 0", "ci-groups 0 must be within 1..32"},
            {"fit-range = 3", "fit range '3' is not LO:HI"},
            {"auth-reads = yes", "auth-reads 'yes' is not true or false"},
            {"auth-reads = true", "auth-reads needs a token"},
            {"alert-webhook = ftp://x", "alert-webhook 'ftp://x'"},
            {"refresh-seconds = 0\nwindow = cumulative", "spectra never refresh"},
        };
        for (Object[] c : cases) {
            Path file = dir.resolve("bad.properties");
            Files.writeString(file, (String) c[0]);
            assertThatThrownBy(() -> ServeSettings.defaults().file(file).build(Map.of()))
                    .as((String) c[0]).isInstanceOf(UserInputException.class).hasMessageContaining((String) c[1]);
        }
    }

    @Test
    void tokenComesFromTheEnvironmentOrAFileNeverBoth(@TempDir Path dir) throws Exception {
        assertThat(ServeSettings.defaults().build(Map.of(ServeSettings.TOKEN_ENV, "0123456789abcdef!")).token())
                .isPresent();
        assertThatThrownBy(() -> ServeSettings.defaults().build(Map.of(ServeSettings.TOKEN_ENV, "short")))
                .hasMessageContaining("use at least 16");
        // Set but empty (ALPHAWATCH_TOKEN= in a shell or a compose file): refused, never "no token".
        for (String empty : new String[] {"", "   "}) {
            assertThatThrownBy(() -> ServeSettings.defaults().build(Map.of(ServeSettings.TOKEN_ENV, empty)))
                    .hasMessageContaining("set but empty");
        }
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, "fedcba9876543210xyz\n");
        ServerConfig c = ServeSettings.defaults().set("token-file", tokenFile).build(Map.of());
        assertThat(new String(c.token().orElseThrow())).isEqualTo("fedcba9876543210xyz");
        assertThatThrownBy(() -> ServeSettings.defaults().set("token-file", tokenFile)
                .build(Map.of(ServeSettings.TOKEN_ENV, "0123456789abcdef!"))).hasMessageContaining("choose one");
        assertThatThrownBy(() -> ServeSettings.defaults().set("token-file", dir.resolve("none")).build(Map.of()))
                .hasMessageContaining("cannot read");
    }

    @Test
    void serveRefusesBadSettingsWithExitTwo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "max-dims = 1\n");
        StringWriter err = new StringWriter();
        int status = Main.run(new String[] {"serve", "--config", file.toString()}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("max-dims 1 must be within 2..16384");
        assertThat(Main.run(new String[] {"serve", "--port", "abc"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err))).isEqualTo(2);
    }

    @Test
    void theTablesDefaultsAreTheCodesDefaults() {
        ServerConfig fromTable = ServeSettings.defaults().build(Map.of());
        MonitorConfig code = MonitorConfig.defaults();
        // The memory budget defaults to half the heap in both; everything else must be equal.
        assertThat(fromTable.monitor().toBuilder().memoryBudgetBytes(code.memoryBudgetBytes()).build()).isEqualTo(code);
        assertThat(fromTable.port()).isEqualTo(ServerConfig.DEFAULT_PORT);
        assertThat(fromTable.bind()).isEqualTo(ServerConfig.DEFAULT_BIND);
        assertThat(fromTable.bodyMemoryBytes()).isEqualTo(ServerConfig.DEFAULT_BODY_MEMORY);
        assertThat(fromTable.readTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(fromTable.alerts()).isEqualTo(AlertConfig.defaults());
        assertThat(fromTable.durability()).isEqualTo(DurabilitySettings.none());
        assertThat(fromTable.scale()).isEmpty();
    }

    @Test
    void serveOffersEverySettingAsAFlagWithItsDefault() {
        CommandLine top = Main.commandLine();
        CommandLine serve = top.getSubcommands().get("serve");
        for (ServeSettings.Setting s : ServeSettings.SETTINGS) {
            var option = serve.getCommandSpec().findOption(s.flag());
            assertThat(option).as(s.key()).isNotNull();
            assertThat(option.arity().max()).as(s.key()).isEqualTo(s.kind() == ServeSettings.Kind.FLAG ? 0 : 1);
        }
        StringWriter help = new StringWriter();
        serve.usage(new PrintWriter(help));
        assertThat(help.toString()).contains("--ci-groups=VALUE", "(default 8)", "--recover");
        // A flag overrides the file and the default; the result is what the server runs with.
        top.parseArgs("serve", "--ci-groups", "4", "--recover", "--window", "cumulative");
        ServerConfig cfg = ((ServeCommand) serve.getCommand()).settings();
        assertThat(cfg.monitor().ciGroups()).isEqualTo(4);
        assertThat(cfg.durability().recover()).isTrue();
        assertThat(cfg.monitor().window().label()).isEqualTo("cumulative");
    }
}
