package org.alphawatch.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.alphawatch.testing.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NpyReaderTest {
    private static double[] read(String name) throws IOException {
        try (NpyReader r = NpyReader.open(Resources.path("npy/" + name))) {
            double[] d = new double[r.rows() * r.cols()];
            assertThat(r.readRows(d, r.rows())).isEqualTo(r.rows());
            assertThat(r.readRows(d, 1)).isZero();
            return d;
        }
    }

    /** Every supported layout decodes to numpy's values (converted by numpy itself when the file was written). */
    @ParameterizedTest
    @CsvSource({"c_f8.npy,0", "be_f8.npy,0", "fortran_f8.npy,0", "v2_f8.npy,0", "v3_f8.npy,0",
        "c_f4.npy,1e-7", "be_f4.npy,1e-7", "f2.npy,2e-3"})
    void floatVariantsMatchTheReference(String file, double relTol) throws IOException {
        double[] expected = read("expected_values.npy");
        double[] got = read(file);
        for (int i = 0; i < expected.length; i++) {
            assertThat(got[i]).isCloseTo(expected[i], within(relTol * Math.abs(expected[i]) + (relTol == 0 ? 0 : 1e-12)));
        }
    }

    @Test
    void integerAndBoolTypesConvert() throws IOException {
        double[] expected = read("expected_values.npy");
        double[] i2 = read("i2.npy");
        double[] u1 = read("u1.npy");
        double[] i8 = read("i8_be.npy");
        double[] b = read("bool.npy");
        for (int i = 0; i < expected.length; i++) {
            assertThat(i2[i]).isEqualTo((double) (long) (expected[i] * 100));
            assertThat(u1[i]).isEqualTo((double) (long) (Math.abs(expected[i]) * 50));
            assertThat(i8[i]).isEqualTo((double) (long) (expected[i] * 1000));
            assertThat(b[i]).isEqualTo(expected[i] > 0 ? 1.0 : 0.0);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "one_d.npy|1-D with shape (5,); expected 2-D",
        "three_d.npy|3-D with shape (5, 3, 1)",
        "object.npy|object arrays hold Python objects",
        "complex.npy|'<c16' is not supported (complex)",
        "structured.npy|structured dtype",
        "nan_r3_c1.npy|row 3, column 1 is NaN",
        "inf_r2_c0.npy|row 2, column 0 is Infinity"})
    void unsupportedOrInvalidFilesNameTheProblem(String file, String message) {
        assertThatThrownBy(() -> read(file)).isInstanceOf(NpyFormatException.class)
                .hasMessageContaining(file).hasMessageContaining(message);
    }

    @Test
    void writerRoundTripsAndTruncationOrPaddingIsCaught(@TempDir Path dir) throws IOException {
        double[] data = {1, 2, 3, 4, 5, 6};
        Path p = dir.resolve("x.npy");
        NpyWriter.write(p, data, 2, 3);
        try (NpyReader r = NpyReader.open(p)) {
            assertThat(r.header().dataOffset() % 64).isZero();
            assertThat(r.readAll().toDoubles()).containsExactly(data);
        }
        byte[] bytes = Files.readAllBytes(p);
        assertThatThrownBy(() -> NpyReader.of(Arrays.copyOf(bytes, bytes.length - 1), "body"))
                .hasMessageContaining("body: truncated: header declares shape (2, 3) of float64 (48 data bytes) but only 47 follow");
        assertThatThrownBy(() -> NpyReader.of(Arrays.copyOf(bytes, bytes.length + 8), "body"))
                .hasMessageContaining("8 more bytes follow");
        assertThatThrownBy(() -> NpyReader.of(Arrays.copyOf(bytes, 40), "body")).hasMessageContaining("truncated inside the header");
        assertThatThrownBy(() -> NpyReader.of(Arrays.copyOf(bytes, 5), "body")).hasMessageContaining("too short");
        assertThatThrownBy(() -> NpyReader.open(dir.resolve("missing.npy"))).hasMessageContaining("no such file");
        float[] f = {1.5f, -2f};
        assertThat(NpyReader.of(NpyWriter.toBytes(f, 1, 2), "f").readAll().floats()).containsExactly(f);
    }

    private static byte[] withHeader(String dict, int major) {
        byte[] d = dict.getBytes(StandardCharsets.ISO_8859_1);
        int pre = major == 1 ? 10 : 12;
        byte[] out = new byte[pre + d.length];
        System.arraycopy(NpyHeader.MAGIC, 0, out, 0, 6);
        out[6] = (byte) major;
        out[8] = (byte) d.length;
        out[9] = (byte) (d.length >> 8);
        System.arraycopy(d, 0, out, pre, d.length);
        return out;
    }

    @Test
    void headerLiesAreRefused() {
        assertThatThrownBy(() -> NpyReader.of("not numpy at all".getBytes(StandardCharsets.US_ASCII), "b"))
                .hasMessageContaining("not a .npy file");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", 4), "b"))
                .hasMessageContaining("unsupported .npy format version 4");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'shape': (2, 2), }", 1), "b"))
                .hasMessageContaining("lacks the 'fortran_order' key");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", 1), "b"))
                .hasMessageContaining("not a non-negative integer");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000), }", 1), "b"))
                .hasMessageContaining("overflows");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100), }", 1), "b"))
                .hasMessageContaining("truncated: header declares shape (100000, 100)");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2), }", 1), "b"))
                .hasMessageContaining("fortran_order 0 is not True or False");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", 1), "b"))
                .hasMessageContaining("unexpected header key 'x'");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(20) + "2" + ")".repeat(20) + "}", 1), "b"))
                .hasMessageContaining("nesting deeper");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }", 1), "b"))
                .hasMessageContaining("0 columns");
        assertThatThrownBy(() -> NpyReader.of(withHeader("{'descr': '<f4' 'fortran_order': False}", 1), "b"))
                .hasMessageContaining("malformed header");
    }
}
