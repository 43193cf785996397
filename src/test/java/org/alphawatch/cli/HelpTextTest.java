package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help renders cleanly: picocli formats descriptions, so a bare '%' breaks them. */
class HelpTextTest {
    @Test
    void everyCommandsHelpFormatsWithoutWarnings() {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        Deque<CommandLine> todo = new ArrayDeque<>();
        todo.add(Main.commandLine());
        int commands = 0;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            while (!todo.isEmpty()) {
                CommandLine cl = todo.poll();
                todo.addAll(cl.getSubcommands().values());
                StringWriter help = new StringWriter();
                cl.usage(new PrintWriter(help));
                assertThat(help.toString()).as(cl.getCommandName()).doesNotContain("%n", "%%").contains("Usage:");
                commands++;
            }
        } finally {
            System.setErr(stderr);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8)).as("picocli's complaints").isEmpty();
        assertThat(commands).isGreaterThan(5);
    }
}
