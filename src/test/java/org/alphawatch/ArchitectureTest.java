package org.alphawatch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The layers of DESIGN.md 2 and the packages' package-info: each package may use only the
 * packages on its allow-list, there are no cycles between packages, and the heavy libraries stay
 * where they belong. Imports the classes once.
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.alphawatch");

    private static final Set<String> PACKAGES = Set.of("alert", "attach", "cli", "core", "durability", "io",
            "metrics", "pipeline", "plot", "report", "scale", "server", "train", "transformer");

    /** What each package may use of ours (besides itself); "cli" may use everything. */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("core", Set.of()),
            Map.entry("io", Set.of("core")),
            Map.entry("plot", Set.of("core")),
            Map.entry("pipeline", Set.of("core", "io")),
            Map.entry("report", Set.of("core", "pipeline")),
            Map.entry("durability", Set.of("core", "io", "pipeline")),
            Map.entry("metrics", Set.of("core", "pipeline", "durability")),
            Map.entry("attach", Set.of("core", "io", "pipeline", "report")),
            Map.entry("alert", Set.of("core", "io", "pipeline", "metrics", "report")),
            Map.entry("scale", Set.of("core", "io", "pipeline", "durability", "report", "metrics")),
            Map.entry("server", Set.of("core", "io", "pipeline", "report", "metrics", "alert", "durability", "scale")),
            Map.entry("train", Set.of("core", "io", "pipeline", "alert", "attach", "plot")),
            Map.entry("transformer", Set.of("core", "io", "pipeline", "alert", "attach", "plot", "server")));

    @Test
    void everyPackageUsesOnlyItsAllowList() {
        ALLOWED.forEach((pkg, allowed) -> {
            Set<String> forbidden = new TreeSet<>(PACKAGES);
            forbidden.removeAll(allowed);
            forbidden.remove(pkg);
            noClasses().that().resideInAPackage("org.alphawatch." + pkg + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(forbidden.stream()
                            .map(p -> "org.alphawatch." + p + "..").toArray(String[]::new))
                    .because(pkg + "'s package-info allows only " + allowed)
                    .check(CLASSES);
        });
    }

    @Test
    void noCyclesBetweenPackages() {
        slices().matching("org.alphawatch.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void coreImportsNoReactorNettyOrMicrometer() {
        noClasses().that().resideInAPackage("org.alphawatch.core..")
                .should().dependOnClassesThat().resideInAnyPackage("reactor..", "io.netty..", "io.micrometer..",
                        "io.prometheus..", "com.fasterxml..", "picocli..")
                .check(CLASSES);
    }

    @Test
    void onlyTheScaleOutPackageTouchesKafka() {
        noClasses().that().resideOutsideOfPackage("org.alphawatch.scale..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "kafka..")
                .check(CLASSES);
    }

    @Test
    void onlyTheTransformerPackageTouchesTheModelLibraries() {
        noClasses().that().resideOutsideOfPackage("org.alphawatch.transformer..")
                .should().dependOnClassesThat().resideInAnyPackage("ai.onnxruntime..", "ai.djl..", "dev.langchain4j..")
                .check(CLASSES);
    }
}
