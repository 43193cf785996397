package org.alphawatch.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** JsonFields is the one place of JSON field names: no document writes or reads a literal name. */
class JsonFieldsTest {
    /** A string literal used as a map or JSON-node key. */
    private static final Pattern LITERAL_KEY =
            Pattern.compile("\\.(put|get|path|has)\\(\"([a-z_0-9]+)\"[,)]|Map\\.of\\(\"([a-z_0-9]+)\"");

    /** Files whose literal keys are not alphawatch JSON: settings keys, Kafka and library options, a helper's output. */
    private static final Map<String, String> NOT_JSON_DOCUMENTS = Map.of(
            "cli/ServeSettings.java", "keys of the settings table",
            "cli/Main.java", "picocli subcommand names",
            "cli/BenchCommand.java", "the numpy timing helper's private output",
            "scale/Broker.java", "Kafka broker properties",
            "transformer/MiniLm.java", "tokenizer options and ONNX input names");

    @Test
    void noJsonFieldNameIsALiteralOutsideJsonFields() throws IOException {
        Path root = Path.of("src/main/java/org/alphawatch");
        List<String> literals = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                if (rel.equals("report/JsonFields.java") || NOT_JSON_DOCUMENTS.containsKey(rel)) {
                    continue;
                }
                Matcher m = LITERAL_KEY.matcher(Files.readString(f));
                while (m.find()) {
                    literals.add(rel + ": " + m.group());
                }
            }
        }
        assertThat(literals).as("use a JsonFields constant").isEmpty();
    }

    @Test
    void namesAreUniqueSnakeCase() throws IllegalAccessException {
        Set<String> seen = new HashSet<>();
        for (Field f : JsonFields.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                String name = (String) f.get(null);
                assertThat(name).as(f.getName()).matches("[a-z][a-z0-9_]*");
                assertThat(seen.add(name)).as("%s repeats '%s'", f.getName(), name).isTrue();
            }
        }
        assertThat(seen).hasSizeGreaterThan(100);
    }
}
