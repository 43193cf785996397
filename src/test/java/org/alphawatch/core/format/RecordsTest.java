package org.alphawatch.core.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.core.projection.EnergySlope;
import org.alphawatch.pipeline.ProjectionSnapshot;
import org.junit.jupiter.api.Test;

/**
 * Values that hold arrays compare every component by content (issue 21: ProjectionSnapshot once
 * ignored its slope, read-out R^2 and k, EnergySlope its r2): equal copies are equal with equal
 * hashes, and a change in any one component, array or not, makes them differ.
 */
class RecordsTest {
    @Test
    void everyComponentCounts() {
        EnergySlope slope = new EnergySlope(-1.0, 0.9, new int[] {8, 16}, new double[] {2, 1});
        assertEqualCopies(slope, new EnergySlope(-1.0, 0.9, new int[] {8, 16}, new double[] {2, 1}));
        assertAllDiffer(slope, List.of(new EnergySlope(-0.9, 0.9, new int[] {8, 16}, new double[] {2, 1}),
                new EnergySlope(-1.0, 0.8, new int[] {8, 16}, new double[] {2, 1}),
                new EnergySlope(-1.0, 0.9, new int[] {8, 17}, new double[] {2, 1}),
                new EnergySlope(-1.0, 0.9, new int[] {8, 16}, new double[] {2, 1.5})));

        ProjectionSnapshot p = new ProjectionSnapshot(3, new int[] {8}, new double[] {1}, slope, 0.7, new double[] {0, 1}, 3);
        assertEqualCopies(p, new ProjectionSnapshot(3, new int[] {8}, new double[] {1}, slope, 0.7, new double[] {0, 1}, 3));
        EnergySlope other = new EnergySlope(-0.5, 0.9, new int[] {8, 16}, new double[] {2, 1});
        assertAllDiffer(p, List.of(
                new ProjectionSnapshot(4, new int[] {8}, new double[] {1}, slope, 0.7, new double[] {0, 1}, 3),
                new ProjectionSnapshot(3, new int[] {9}, new double[] {1}, slope, 0.7, new double[] {0, 1}, 3),
                new ProjectionSnapshot(3, new int[] {8}, new double[] {2}, slope, 0.7, new double[] {0, 1}, 3),
                new ProjectionSnapshot(3, new int[] {8}, new double[] {1}, other, 0.7, new double[] {0, 1}, 3),
                new ProjectionSnapshot(3, new int[] {8}, new double[] {1}, slope, 0.6, new double[] {0, 1}, 3),
                new ProjectionSnapshot(3, new int[] {8}, new double[] {1}, slope, 0.7, new double[] {0, 2}, 3),
                new ProjectionSnapshot(3, new int[] {8}, new double[] {1}, slope, 0.7, new double[] {0, 1}, 2)));

        CodeMetrics c = new CodeMetrics(2, 3, 4, new double[] {0.5}, new int[] {1});
        assertEqualCopies(c, new CodeMetrics(2, 3, 4, new double[] {0.5}, new int[] {1}));
        assertAllDiffer(c, List.of(new CodeMetrics(2, 3, 4.5, new double[] {0.5}, new int[] {1}),
                new CodeMetrics(2, 3, 4, new double[] {0.5}, new int[] {2})));
        // NaN equals NaN (as records compare doubles), so an undefined slope does not break equality.
        EnergySlope nan = new EnergySlope(Double.NaN, Double.NaN, new int[0], new double[0]);
        assertEqualCopies(nan, new EnergySlope(Double.NaN, Double.NaN, new int[0], new double[0]));
    }

    static void assertEqualCopies(Object a, Object b) {
        assertThat(a).isEqualTo(b);
        assertThat(a.hashCode()).isEqualTo(b.hashCode());
    }

    static void assertAllDiffer(Object a, List<Object> others) {
        for (Object o : others) {
            assertThat(a).as(o.toString()).isNotEqualTo(o);
        }
    }
}
