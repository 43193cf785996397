package org.alphawatch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** DESIGN.md 2: the numerical core stays free of the streaming, network and metrics stacks. */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.alphawatch");

    @Test
    void coreImportsNoReactorNettyOrMicrometer() {
        noClasses().that().resideInAPackage("org.alphawatch.core..")
                .should().dependOnClassesThat().resideInAnyPackage("reactor..", "io.netty..", "io.micrometer..",
                        "io.prometheus..")
                .check(CLASSES);
    }

    @Test
    void coreDoesNotDependOnTheOuterLayers() {
        noClasses().that().resideInAPackage("org.alphawatch.core..")
                .should().dependOnClassesThat().resideInAnyPackage("org.alphawatch.cli..", "org.alphawatch.server..",
                        "org.alphawatch.pipeline..", "org.alphawatch.metrics..", "org.alphawatch.train..",
                        "org.alphawatch.io..", "org.alphawatch.report..")
                .check(CLASSES);
    }

    @Test
    void onlyTheScaleOutPackageTouchesKafka() {
        noClasses().that().resideOutsideOfPackage("org.alphawatch.scale..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "kafka..")
                .check(CLASSES);
    }
}
